"""A comparison started from the dashboard: ``egur bench`` in a background thread, observed live.

The same harness as the CLI (:func:`egur_core.evals.comparison.run_bench`): every method on the
same problems per seed, EGuR from a fresh memory by default, baselines recorded like EGuR, one
``comparison_id`` for all runs. Its events fold into an immutable snapshot per (method, seed), so
the Run page can draw each method's curve while they run, and Results can open the comparison
when it ends. Each run holds its lease while it goes (:class:`egur_core.app.ownership.LeaseEvents`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from egur_core.app.jobs import BackgroundJob, JobRegistry
from egur_core.app.ownership import LeaseEvents
from egur_core.app.progress import FINAL, ProblemRecord, problem_record
from egur_core.app.services import build_client
from egur_core.evals.comparison import METHODS, BenchConfig, ClientFactory, run_bench
from egur_core.evals.datasets.registry import workload
from egur_core.llm import Settings
from egur_core.memory.database import MemoryFile
from egur_core.reasoner.events import LoopEvent


@dataclass(frozen=True)
class MethodProgress:
    """One (method, seed) run of the comparison as it goes."""

    method: str
    seed: int
    total: int
    run_id: str | None = None
    status: str = "waiting"
    records: tuple[ProblemRecord, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} · seed {self.seed}"

    @property
    def done(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class ComparisonSnapshot:
    comparison_id: str
    config: BenchConfig
    status: str
    methods: tuple[MethodProgress, ...]
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    @property
    def run_ids(self) -> list[str]:
        return [m.run_id for m in self.methods if m.run_id]


class ComparisonJob(BackgroundJob[ComparisonSnapshot]):
    """``run_bench`` in a thread; :meth:`handle` is its ``on_event`` (method, seed, event)."""

    def __init__(self, config: BenchConfig):
        comparison_id = config.comparison_id or f"cmp-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        super().__init__(comparison_id)
        self.comparison_id = comparison_id
        self.config = config.model_copy(update={"comparison_id": comparison_id})
        methods = tuple(MethodProgress(m, s, config.n) for s in self.config.seeds for m in self.config.methods)
        self._state = ComparisonSnapshot(comparison_id, self.config, "running", methods)

    def stop(self) -> None:
        """Every method stops after the problem it is on (its run is then ``stopped``, resumable)."""
        self.stop_event.set()

    def handle(self, method: str, seed: int, event: LoopEvent) -> None:
        """Fold one event into the snapshot (called from the bench's threads); never raises."""
        try:
            with self.lock:
                self._state = replace(self._state, methods=tuple(
                    _fold(m, event) if (m.method, m.seed) == (method, seed) else m for m in self._state.methods))
        except Exception as exc:  # noqa: BLE001  a display bug must not kill the comparison
            with self.lock:
                self._state = replace(self._state, error=f"event {event.kind}: {exc}")

    def _end(self, status: str, error: str | None = None) -> None:
        with self.lock:
            if not self._state.finished:
                self._state = replace(self._state, status=status, error=error or self._state.error,
                                      finished_at=time.time())


def _fold(progress: MethodProgress, event: LoopEvent) -> MethodProgress:
    if event.payload.get("phase") == "warmup" or "warmup" in str(event.payload.get("label", "")):
        return progress
    if event.kind == "run_started":
        return replace(progress, run_id=event.run_id, status="running")
    if event.kind == "problem_finished" and event.idx is not None and event.run_id == progress.run_id:
        return replace(progress, records=(*progress.records, problem_record(event.idx, event.payload, {})))
    if event.kind == "run_finished" and event.run_id == progress.run_id:
        return replace(progress, status=str(event.payload.get("status", "finished")))
    return progress


def start_comparison(registry: JobRegistry, settings_for: Callable[[int], Settings], memory: MemoryFile,
                     config: BenchConfig, client_factory: ClientFactory = build_client) -> ComparisonJob:
    """Check the benchmark and methods before any thread starts, then run the comparison in the background.

    ``settings_for(seed)`` gives each seed's model settings, as for ``egur bench``."""
    unknown = [m for m in config.methods if m not in METHODS]
    if unknown or not config.methods or not config.seeds:
        raise ValueError(f"choose at least one method from {', '.join(METHODS)} and one seed"
                         + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    work = workload(config.benchmark, config.n, config.seeds[0])
    job = ComparisonJob(config.model_copy(update={"n": min(config.n, len(work))}))
    leases = LeaseEvents(memory.path, "dashboard")

    def on_event(method: str, seed: int, event: LoopEvent) -> None:
        leases(event)
        job.handle(method, seed, event)

    registry.add(job)
    job.on_end(leases.release)
    job.launch_blocking(lambda: run_bench(memory, settings_for, job.config, client_factory, on_event=on_event,
                                          stop=job.stop_event))
    return job
