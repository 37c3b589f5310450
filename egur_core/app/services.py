"""Building the parts a run needs (settings, model client, tools, memory file) from user options.

The CLI and the dashboard both start here, so "--model X --base-url Y" means the same thing in
both and the simulated model is the default everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from egur_core.llm import CallRecord, LLMClient, Settings, load_settings
from egur_core.llm.cache import ResponseCache
from egur_core.llm.capabilities import CapabilityMemory
from egur_core.memory.database import MemoryFile
from egur_core.memory.embedding import local_embedding
from egur_core.sim import SimulatedTransport, simulator_fingerprint
from egur_core.strategy.roles import ROLES
from egur_core.tools.registry import ToolRegistry, default_registry
from egur_core.tools.sandbox import allow_unsafe_sandbox, sandbox_notice  # noqa: F401  (for the CLI and pages)

DEFAULT_DB = "egur.duckdb"
DB_ENV = "EGUR_DB"


def default_db() -> str:
    """The memory file the CLI and the dashboard both use unless told otherwise: ``$EGUR_DB``, else
    ``egur.duckdb`` in the working directory."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


def resolve_settings(model: str | None = None, base_url: str | None = None, config: str | Path | None = None,
                     sim_seed: int | None = None, sim_latency_s: float | None = None) -> Settings:
    """Options over environment over config file over the simulated default."""
    env = dict(os.environ)
    if model:
        env["EGUR_MODEL"] = model
    if base_url:
        env["OPENAI_BASE_URL"] = base_url
    settings = load_settings(config, env)
    if sim_seed is not None:
        settings.sim_seed = sim_seed
    if sim_latency_s is not None:
        settings.sim_latency_s = sim_latency_s
    return settings


def build_client(settings: Settings, *, cache: ResponseCache | None = None,
                 on_call: Callable[[CallRecord], None] | None = None, memory: MemoryFile | None = None) -> LLMClient:
    """The model client for ``settings``: over the network, or, for the simulated endpoint, over the
    simulator's transport (the only place the simulator is plugged in). With ``memory``, what each
    endpoint accepted is remembered in that file."""
    simulated = [name for name, ep in settings.endpoints.items() if ep.simulated]
    simulator = SimulatedTransport(seed=settings.sim_seed, latency_s=settings.sim_latency_s)
    identity = f"simulated:seed={settings.sim_seed}:code={simulator_fingerprint()}" if simulated else None
    return LLMClient(settings, transports=dict.fromkeys(simulated, simulator), transport_identity=identity,
                     local_embed=local_embedding, cache=cache, on_call=on_call,
                     capabilities=CapabilityMemory(memory) if memory is not None else None)


def build_tools() -> ToolRegistry:
    return default_registry()


def open_memory(path: str | Path = DEFAULT_DB, wait_s: float = 30.0, max_entries: int = 500,
                max_notes: int = 200) -> MemoryFile:
    """The memory file; the caps bound the library and the notes (the least useful unpinned go first)."""
    return MemoryFile(path, wait_s=wait_s, max_entries=max_entries, max_notes=max_notes)


def sandbox_banner(show: Callable[[str], object]) -> None:
    """Call ``show`` (``st.error``, ``print``) with the sandbox notice when model code is not kernel-isolated:
    the unsafe opt-in, or code steps refused on this host. Every page and the CLI show it."""
    notice = sandbox_notice()
    if notice:
        show(notice)


def role_summary(settings: Settings) -> str:
    """Which model each role uses, e.g. ``guide=sim-pro, executor=sim-mini, consolidator=sim-pro``."""
    return ", ".join(f"{role}={settings.resolve(role).model}" for role in ROLES)


def describe_models(settings: Settings) -> str:
    """One line for banners: which model each role uses, and whether it is simulated."""
    return f"{'SIMULATED model (offline)' if settings.is_simulated else 'endpoint'}: {role_summary(settings)}"
