"""Orchestration overhead of the EGuR loop per problem (issue: the EGuR loop).

A memory file with 10,000 library entries, the simulated model at zero latency, and the loop
run on a stream of problems. Per problem: wall time minus time inside the model (the transport
that stands for the server) minus time inside tools (sandbox processes). What is left is
orchestration: retrieval, prompt building, the openai SDK round trip, validation, the runtime,
answer choice, memory ops and every DuckDB write. Target: median <= 20 ms. Printed twice: for the
whole problem, and from the moment its memory was read (without retrieval), which is what this
script measured until it was found to leave retrieval out.

    python perf/bench_loop.py [--entries 10000] [--n 40] [--benchmark bbeh:object_counting]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_retrieval import fill  # noqa: E402

from egur_core.evals.datasets.registry import workload  # noqa: E402
from egur_core.llm import LLMClient, simulated_settings  # noqa: E402
from egur_core.memory.database import MemoryFile  # noqa: E402
from egur_core.reasoner.events import LoopEvent  # noqa: E402
from egur_core.reasoner.loop import EGuRLoop, LoopConfig  # noqa: E402
from egur_core.sim import SimulatedTransport  # noqa: E402
from egur_core.tools.registry import default_registry  # noqa: E402


class TimedTransport(SimulatedTransport):
    """Adds up the time the "server" spends, so it can be taken out of the loop's wall time."""

    spent = 0.0

    async def handle_async_request(self, request):
        started = time.perf_counter()
        try:
            return await super().handle_async_request(request)
        finally:
            TimedTransport.spent += time.perf_counter() - started


class TimedTools:
    spent = 0.0

    def __init__(self, registry):
        self.registry = registry

    def names(self):
        return self.registry.names()

    def catalog(self):
        return self.registry.catalog()

    def get(self, name):
        tool = self.registry.get(name)
        outer = self

        class Timed:
            description = tool.description

            async def run(self, text, *, timeout=10.0):
                started = time.perf_counter()
                try:
                    return await tool.run(text, timeout=timeout)
                finally:
                    type(outer).spent += time.perf_counter() - started

        return Timed()


async def measure(path: Path, benchmark: str, n: int) -> dict[str, list[float]]:
    """Per problem, seconds of orchestration: ``whole`` from the previous problem's end (the run's start for the
    first), so the retrieval counts; ``after retrieval`` from ``problem_started``, which is announced once the
    memory was read (how this script measured before)."""
    client = LLMClient(simulated_settings(seed=1), transport=TimedTransport(seed=1))
    spans: dict[str, list[float]] = {"whole": [], "after retrieval": []}
    marks: dict[str, tuple[float, float, float]] = {}

    def on_event(event: LoopEvent) -> None:
        now = (time.perf_counter(), TimedTransport.spent, TimedTools.spent)
        if event.kind == "problem_finished":
            for name, mark in (("whole", marks["end"]), ("after retrieval", marks["started"])):
                wall, model, tools = (now[i] - mark[i] for i in range(3))
                spans[name].append(wall - model - tools)
        if event.kind in ("run_started", "problem_finished"):
            marks["end"] = now
        elif event.kind == "problem_started":
            marks["started"] = now

    loop = EGuRLoop(client, TimedTools(default_registry()), MemoryFile(path, max_entries=50_000), on_event=on_event)
    config = LoopConfig(benchmark=benchmark, n=n, k=3, seed=1)
    await loop.run(config, workload(config.benchmark, config.n, config.seed))
    await client.aclose()
    return spans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--benchmark", default="bbeh:object_counting")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with MemoryFile(path, max_entries=50_000).session() as store:
            seconds = fill(store, args.entries)
        print(f"filled {args.entries} library entries in {seconds:.1f} s")
        spans = asyncio.run(measure(path, args.benchmark, args.n))
    print(f"orchestration overhead per problem ({args.benchmark}, k=3, {args.n} problems, {args.entries} entries; "
          "target median <= 20 ms):")
    for name, seconds_each in spans.items():
        ms = sorted(s * 1000 for s in seconds_each)
        print(f"  {name:>16s}: median {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * len(ms)) - 1]:.1f} ms")


if __name__ == "__main__":
    main()
