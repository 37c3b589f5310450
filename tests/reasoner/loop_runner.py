"""Running the whole loop from a test in one call."""

from __future__ import annotations

import asyncio

from egur_core.app.services import build_client
from egur_core.evals.datasets.registry import workload as build_workload
from egur_core.llm import LLMClient, simulated_settings
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import EGuRLoop
from egur_core.reasoner.method import OpenStore
from egur_core.tools.registry import default_registry


def run_loop(memory, config, *, settings=None, transport=None, problems=None, run_id=None, on_event=None,
             stop=None, workload=None):
    """Run the EGuR loop to the end on ``memory`` (a store or a memory file); returns ``(run_id, outcomes)``.

    The simulated model by default; ``settings``/``transport`` point it elsewhere (a fake server, a
    transport that garbles some replies). The workload is the benchmark's, or ``problems``, or ``workload``."""
    settings = settings or simulated_settings(seed=config.seed)
    work = workload or build_workload(config.benchmark, config.n, config.seed, problems=problems)

    async def go():
        client = LLMClient(settings, transport=transport) if transport is not None else build_client(settings)
        try:
            access = OpenStore(memory) if isinstance(memory, MemoryStore) else memory
            loop = EGuRLoop(client, default_registry(), access, on_event=on_event, stop=stop)
            rid = run_id or loop.start_run(config)
            return rid, await loop.run(config, work, run_id=rid)
        finally:
            await client.aclose()

    return asyncio.run(go())
