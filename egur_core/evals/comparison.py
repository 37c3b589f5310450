"""The evaluation harness: EGuR and the baselines on the same problems, model and scorer.

Protocol (online, as in the paper): for each seed, every method makes one pass over the same
seeded stream, its memory accumulating as it goes, answers chosen before the label is seen.
Optionally a warm-up pass first (``warmup`` problems disjoint from the stream; memory carries
over), so the stream becomes a held-out evaluation. Several seeds give a mean and a spread.

Each (method, seed) gets its own model client (its own response-cache namespace and call
counts) and runs concurrently with the others, up to ``jobs`` at once. EGuR starts from an
empty memory by default (``egur_memory="fresh"``: a scratch memory file per seed, kept next to
the database for inspection) just as the baselines' memories start empty; its run records are
then copied into the main file. Every evaluated run carries the bench's ``comparison_id``;
warm-up passes carry ``<comparison_id>:warmup``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from egur_core.evals.baselines import BASELINES, BaselineConfig
from egur_core.evals.comparison_table import copy_run, summarise_runs
from egur_core.evals.datasets.catalog import Sessions, dataset_record, load_problems, workload
from egur_core.evals.run_records import problem_records, summarise
from egur_core.llm import CallRecord, LLMClient, Settings
from egur_core.llm.cache import ResponseCache
from egur_core.memory.database import MemoryFile
from egur_core.reasoner.events import LoopEvent
from egur_core.reasoner.loop import EGuRLoop, LoopConfig
from egur_core.reasoner.task import Workload
from egur_core.tools.registry import default_registry

METHODS = ("egur", "cot", "sc", "dc", "mem0", "static")
METHOD_NAMES = {"egur": "EGuR", "cot": "Chain of thought", "sc": "Self-consistency", "dc": "Dynamic Cheatsheet",
                "mem0": "Mem0-style memory", "static": "Best fixed strategy"}
WARMUP_FALLBACK = {"aime2025": "aime2024"}  # the paper's convention: AIME 2024 warms up for 2025


class BenchConfig(BaseModel):
    benchmark: str
    n: int = Field(30, ge=1)
    methods: list[str] = Field(default_factory=lambda: list(METHODS))
    seeds: list[int] = Field(default_factory=lambda: [0])
    warmup: int = Field(0, ge=0, description="warm-up problems before the evaluated stream (0: online only)")
    static_warmup: int = Field(10, ge=1, description="warm-up problems the static baseline chooses on")
    k: int = Field(3, ge=1, le=8, description="EGuR candidates per problem")
    sc_n: int = Field(5, ge=1, le=64)
    label_free: bool = False
    cache: bool = True
    jobs: int | None = Field(None, ge=1, description="(method, seed) runs at once; default: all methods")
    egur_memory: Literal["fresh", "shared"] = "fresh"
    label: str = ""
    comparison_id: str | None = None


class MethodRun(BaseModel):
    method: str
    seed: int
    run_id: str
    warmup_run_id: str | None = None
    summary: dict[str, Any]
    wall_s: float
    calls: int = Field(0, description="model requests (one request may carry n samples)")
    cached_calls: int = Field(0, description="requests answered by the response cache")
    spent_usd: float = Field(0.0, description="dollars really paid: recorded costs minus cached calls")
    info: dict[str, Any] = Field(default_factory=dict)


class BenchResult(BaseModel):
    comparison_id: str
    config: BenchConfig
    runs: list[MethodRun]
    wall_s: float

    def table(self) -> list[dict[str, Any]]:
        return summarise_runs(self.runs)


def split_stream(benchmark: str, n: int, warmup: int, seed: int, *, memory: Sessions | None = None,
                 llm: Any = None) -> tuple[Workload, Workload]:
    """The evaluated stream (exactly the benchmark's first ``n`` for ``seed``) and disjoint warm-up problems.

    ``memory`` holds a dataset a person added; ``llm`` is the client a judge-scored dataset's judge calls."""
    if memory is None:
        problems = load_problems(benchmark, n + warmup, seed)
    else:
        with memory.session() as store:
            problems = load_problems(benchmark, n + warmup, seed, store=store)
    stream, warm = problems[:n], problems[n:]
    if len(warm) < warmup and benchmark in WARMUP_FALLBACK:
        warm += load_problems(WARMUP_FALLBACK[benchmark], warmup - len(warm), seed)
    return (workload(benchmark, problems=stream, memory=memory, llm=llm),
            workload(benchmark, problems=warm, memory=memory, llm=llm))


class ClientFactory(Protocol):
    """Builds a model client for some settings (the composition root knows how, e.g. the simulated model)."""

    def __call__(self, settings: Settings, *, cache: ResponseCache | None = None,
                 on_call: Callable[[CallRecord], None] | None = None,
                 memory: MemoryFile | None = None) -> LLMClient: ...


class _CallCounter:
    """Counts a client's requests, how many the response cache answered, and the dollars really spent."""

    def __init__(self) -> None:
        self.calls = self.cached = 0
        self.spent_usd = 0.0

    def __call__(self, record: Any) -> None:
        self.calls += 1
        self.cached += bool(record.cached)
        self.spent_usd += record.cost_usd


class Bench:
    def __init__(self, memory: MemoryFile, settings_for: Callable[[int], Settings], config: BenchConfig,
                 build_client: ClientFactory, *, on_event: Callable[[str, int, LoopEvent], None] | None = None,
                 stop: threading.Event | None = None):
        unknown = [m for m in config.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
        self.memory, self.settings_for, self.config, self.build_client = memory, settings_for, config, build_client
        self.comparison_id = config.comparison_id or f"cmp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.on_event = on_event or (lambda method, seed, event: None)
        self.stop = stop or threading.Event()  # every method stops between problems once it is set
        self.tools = default_registry()
        self.dataset = dataset_record(config.benchmark, memory)  # an unknown benchmark is refused here
        self.label_free = config.label_free or (self.dataset["dataset"].get("answers") is False)

    async def run(self) -> BenchResult:
        started = time.perf_counter()
        slots = asyncio.Semaphore(self.config.jobs or len(self.config.methods))
        pairs = [(method, seed) for seed in self.config.seeds for method in self.config.methods]

        async def one(method: str, seed: int) -> MethodRun:
            async with slots:
                return await self.run_method(method, seed)

        runs = await asyncio.gather(*(one(m, s) for m, s in pairs))
        return BenchResult(comparison_id=self.comparison_id, config=self.config, runs=list(runs),
                           wall_s=time.perf_counter() - started)

    async def run_method(self, method: str, seed: int) -> MethodRun:
        started = time.perf_counter()
        counter = _CallCounter()
        cache = ResponseCache(self.memory, namespace=method) if self.config.cache else None
        client = self.build_client(self.settings_for(seed), cache=cache, on_call=counter, memory=self.memory)
        try:
            if method == "egur":
                run_id, warm_id, info = await self._run_egur(client, seed)
            else:
                run_id, warm_id, info = await self._run_baseline(method, client, seed)
        finally:
            await client.aclose()
            if cache is not None:
                cache.flush()
        with self.memory.session() as store:
            summary = summarise(problem_records(store, run_id))
        info["cache"] = cache.stats() if cache is not None else None
        return MethodRun(method=method, seed=seed, run_id=run_id, warmup_run_id=warm_id, summary=summary,
                         wall_s=time.perf_counter() - started, calls=counter.calls, cached_calls=counter.cached,
                         spent_usd=counter.spent_usd, info=info)

    def _listener(self, method: str, seed: int) -> Callable[[LoopEvent], None]:
        return lambda event: self.on_event(method, seed, event)

    async def _run_baseline(self, method: str, client: LLMClient, seed: int) -> tuple[str, str | None, dict]:
        cfg = self.config
        stream, warm = split_stream(cfg.benchmark, cfg.n, cfg.warmup, seed, memory=self.memory, llm=client)
        baseline = BASELINES[method](client, self.tools, self.memory, on_event=self._listener(method, seed),
                                     stop=self.stop)
        scope = f"{self.comparison_id}/{method}/seed{seed}"
        common = {"benchmark": cfg.benchmark, "seed": seed, "scope": scope, "label_free": self.label_free,
                  "sc_n": cfg.sc_n}
        info: dict[str, Any] = {}
        if method == "static":
            info = await baseline.prepare(BaselineConfig(n=cfg.n, **common),
                                          warm if warm.tasks else split_stream(
                                              cfg.benchmark, cfg.n, cfg.static_warmup, seed, memory=self.memory,
                                              llm=client)[1])
        warm_id = None
        if warm.tasks and method in ("dc", "mem0"):  # memory-less baselines have nothing to warm up
            warm_cfg = BaselineConfig(n=len(warm), label="warmup", comparison_id=f"{self.comparison_id}:warmup",
                                      **common)
            warm_id = await baseline.run(warm_cfg, warm, info={"phase": "warmup"})
        eval_cfg = BaselineConfig(n=cfg.n, label=cfg.label, comparison_id=self.comparison_id, **common)
        run_id = await baseline.run(eval_cfg, stream, info={**info, **self.dataset, "phase": "eval"})
        return run_id, warm_id, info

    async def _run_egur(self, client: LLMClient, seed: int) -> tuple[str, str | None, dict]:
        cfg = self.config
        stream, warm = split_stream(cfg.benchmark, cfg.n, cfg.warmup, seed, memory=self.memory, llm=client)
        fresh = cfg.egur_memory == "fresh"
        memory = MemoryFile(self._scratch_path(seed)) if fresh else self.memory
        loop = EGuRLoop(client, self.tools, memory, on_event=self._listener("egur", seed), stop=self.stop)
        info: dict[str, Any] = {"memory": str(memory.path) if fresh else "shared"}
        warm_id = None
        if warm.tasks:
            warm_id = await self._egur_pass(loop, warm, seed, f"{self.comparison_id}:warmup", "warmup")
        run_id = await self._egur_pass(loop, stream, seed, self.comparison_id, cfg.label)
        if fresh:
            with memory.session() as src, self.memory.session() as dst:
                for rid in filter(None, (warm_id, run_id)):
                    copy_run(src, dst, rid, extra_config={"memory_file": str(memory.path)})
        return run_id, warm_id, info

    async def _egur_pass(self, loop: EGuRLoop, work: Workload, seed: int, comparison_id: str, label: str) -> str:
        cfg = self.config
        loop_cfg = LoopConfig(benchmark=cfg.benchmark, n=len(work), k=cfg.k, seed=seed, label=label,
                              label_free=self.label_free)
        run_id = loop.start_run(loop_cfg, comparison_id=comparison_id,
                                extra={"egur_memory": cfg.egur_memory, **self.dataset})
        await loop.run(loop_cfg, work, run_id=run_id)
        return run_id

    def _scratch_path(self, seed: int) -> Path:
        base = Path(self.memory.path)
        folder = base.with_name(base.stem + ".bench")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.comparison_id}-egur-seed{seed}.duckdb"


def run_bench(memory: MemoryFile, settings_for: Callable[[int], Settings], config: BenchConfig,
              build_client: ClientFactory, on_event: Callable[[str, int, LoopEvent], None] | None = None,
              stop: threading.Event | None = None) -> BenchResult:
    """Synchronous entry point (CLI, scripts, the dashboard's comparison job)."""
    return asyncio.run(Bench(memory, settings_for, config, build_client, on_event=on_event, stop=stop).run())
