"""Background runs for the dashboard: the EGuR loop in a thread, its events in a locked record.

Streamlit reruns a page script on every interaction and forgets everything when a tab is
refreshed, so a run cannot live inside the script. A :class:`Job` owns a thread with its own
asyncio loop; the loop's events land in lock-protected state that the page copies out with
:meth:`Job.snapshot` about once a second. Jobs live in a process-wide :class:`JobRegistry`
keyed by ``run_id``, so a refreshed tab (run id in the URL) reattaches to its run.

Nothing here imports streamlit: the thread never touches ``st.*`` (Streamlit's "no st.* in the
thread" pattern), and a failure in the thread ends the job with a message instead of a crash.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, Generic, Protocol, TypeVar

from egur_core.app.ownership import RunLeases, process_leases
from egur_core.app.progress import JobSnapshot, ProblemRecord, problem_record
from egur_core.app.services import build_client, build_tools
from egur_core.evals.datasets.catalog import dataset_record, workload
from egur_core.memory.database import MemoryFile
from egur_core.reasoner.events import LoopEvent
from egur_core.reasoner.loop import EGuRLoop, LoopConfig
from egur_core.reasoner.method import MemoryAccess, Models
from egur_core.reasoner.task import Workload

_STAGES = {
    "problem_started": "retrieving memory",
    "candidates_proposed": "running candidates",
    "answer_chosen": "consolidating memory",
    "memory_updated": "recording",
}


class Snapshot(Protocol):
    @property
    def finished(self) -> bool: ...


S = TypeVar("S", bound=Snapshot)


class BackgroundJob(Generic[S]):
    """A thread with its own asyncio loop, an immutable snapshot of its state behind a lock, a stop flag, and
    cleanups run at its end. Subclasses set ``_state`` and replace it (never mutate it) under ``lock``."""

    _state: S

    def __init__(self, job_id: str, stop: threading.Event | None = None):
        self.job_id = job_id
        self.lock = threading.Lock()
        self.stop_event = stop or threading.Event()
        self._thread: threading.Thread | None = None
        self._cleanups: list[Callable[[], None]] = []

    def snapshot(self) -> S:
        """The state as of now: safe to read while the thread keeps writing."""
        with self.lock:
            return self._state

    @property
    def finished(self) -> bool:
        return self.snapshot().finished

    def on_end(self, cleanup: Callable[[], None]) -> None:
        """Call ``cleanup`` in the job's thread when it ends, however it ends (release leases, ...)."""
        self._cleanups.append(cleanup)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests, shutdown); True if it did."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished

    def launch(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``work()`` on a fresh asyncio loop in a daemon thread."""
        self.launch_blocking(lambda: asyncio.run(work()))

    def launch_blocking(self, work: Callable[[], Any]) -> None:
        """Run ``work()`` (which may own its event loop, like ``run_bench``) in a daemon thread."""
        self._thread = threading.Thread(target=self._main, args=(work,), name=f"egur-job-{self.job_id}", daemon=True)
        self._thread.start()

    def _main(self, work: Callable[[], Any]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001  the thread's last line of defence
            self._end("failed", f"{type(exc).__name__}: {exc}")
            return
        finally:
            for cleanup in self._cleanups:
                cleanup()
        self._end("stopped" if self.stop_event.is_set() else "finished")

    def _end(self, status: str, error: str | None = None) -> None:
        raise NotImplementedError


class Job(BackgroundJob[JobSnapshot]):
    """One run in a background thread; ``handle`` is the loop's ``on_event`` callback."""

    def __init__(self, run_id: str, config: LoopConfig, history: list[ProblemRecord] | None = None,
                 stop: threading.Event | None = None, price_known: bool = True):
        super().__init__(run_id, stop)
        self.run_id, self.config = run_id, config
        self._state = JobSnapshot(run_id=run_id, benchmark=config.benchmark, total=config.n, status="starting",
                                  records=tuple(history or ()), price_known=price_known, started_at=time.time())
        self._proposed: dict[int, dict[str, Any]] = {}

    def stop(self) -> None:
        """Ask the loop to stop; it finishes the problem in flight first (status ``stopped``)."""
        self.stop_event.set()
        with self.lock:
            if not self._state.finished:
                self._state = replace(self._state, stage="stopping after this problem")

    # -- writing (thread side) --------------------------------------------------------------------
    def handle(self, event: LoopEvent) -> None:
        """Fold one loop event into the state. Called in the job's thread, never raises."""
        try:
            with self.lock:
                self._state = self._fold(self._state, event)
        except Exception as exc:  # a display bug must not kill the run
            with self.lock:
                self._state = replace(self._state, error=f"event {event.kind}: {exc}")

    def _fold(self, state: JobSnapshot, event: LoopEvent) -> JobSnapshot:
        p = event.payload
        if event.kind == "run_started":
            return replace(state, status="running", total=int(p.get("total", state.total)))
        if event.kind == "candidates_proposed" and event.idx is not None:
            self._proposed[event.idx] = p
        if event.kind in _STAGES:
            stage = state.stage if state.stage.startswith("stopping") else _STAGES[event.kind]
            in_flight = state.in_flight | {event.idx} if event.idx is not None else state.in_flight
            return replace(state, current=event.idx, stage=stage, in_flight=in_flight)
        if event.kind == "problem_finished" and event.idx is not None:
            record = problem_record(event.idx, p, self._proposed.pop(event.idx, {}))
            in_flight = state.in_flight - {event.idx}
            return replace(state, records=(*state.records, record), in_flight=in_flight,
                           current=state.current if state.current in in_flight else None)
        if event.kind == "run_finished":
            return replace(state, status=p.get("status", "finished"), error=p.get("error") or state.error,
                           current=None, stage="", in_flight=frozenset(), finished_at=time.time())
        return state

    def _end(self, status: str, error: str | None = None) -> None:
        with self.lock:
            if not self._state.finished or error:
                self._state = replace(self._state, status=status, error=error or self._state.error, current=None,
                                      in_flight=frozenset(),
                                      stage="", finished_at=self._state.finished_at or time.time())


ClientFactory = Callable[[Any], Models]


class JobRegistry:
    """Every job of this server process, by id (the pages keep one in ``st.cache_resource``).

    Run jobs on a memory file hold the run's lease (:mod:`egur_core.app.ownership`) while they run,
    so no other process (the CLI, another dashboard) can run the same run at the same time.
    """

    def __init__(self, leases: RunLeases | None = None) -> None:
        self._jobs: dict[str, BackgroundJob] = {}
        self._lock = threading.Lock()
        self.leases = leases or process_leases()

    def get(self, job_id: str | None) -> Any:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def active(self) -> list[Any]:
        """Jobs still running, oldest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in jobs if not j.finished]

    def add(self, job: BackgroundJob) -> None:
        """Register a job under its id; refused while a job with that id still runs."""
        with self._lock:
            previous = self._jobs.get(job.job_id)
            if previous is not None and not previous.finished:
                raise RuntimeError(f"run {job.job_id} is already running")
            self._jobs[job.job_id] = job

    def _claim(self, memory: MemoryAccess, run_id: str) -> Callable[[], None]:
        """Take the run's lease (a memory file only); returns how to let it go."""
        if not isinstance(memory, MemoryFile):
            return lambda: None
        self.leases.claim(memory.path, run_id, "dashboard")
        return lambda: self.leases.release(memory.path, run_id)

    def start(self, settings: Any, memory: MemoryAccess, config: LoopConfig, *, run_id: str | None = None,
              history: list[ProblemRecord] | None = None, client_factory: ClientFactory | None = None,
              tools: Any = None) -> Job:
        """Create the run row now (so the caller can show its id at once), then run it in a thread.

        ``run_id`` resumes an existing run; ``history`` are its already finished problems. An unknown
        benchmark is refused (``ValueError``), and a run that another job or process is running
        (``RuntimeError``), before anything is written or started.
        """
        if run_id is not None and self.get(run_id) is not None and not self.get(run_id).finished:
            raise RuntimeError(f"run {run_id} is already running")
        release = self._claim(memory, run_id) if run_id else (lambda: None)
        try:
            client = client_factory(settings) if client_factory else build_client(settings, memory=memory)
            stop = threading.Event()
            work = workload(config.benchmark, config.n, config.seed, memory=memory, llm=client)
            config = config.model_copy(update={"n": min(config.n, len(work))})  # aime2025 has 30, whatever was asked
            if work.grader is None:  # a dataset without answers: nothing but the verifier and agreement to learn from
                config = config.model_copy(update={"label_free": True})
            loop = EGuRLoop(client, tools if tools is not None else build_tools(), memory,
                            on_event=lambda event: job.handle(event), stop=stop)
            if run_id is None:
                run_id = loop.start_run(config, extra=dataset_record(config.benchmark, memory))
                release = self._claim(memory, run_id)
            job = Job(run_id, config, history, stop, price_known=settings.every_role_priced())
            self.add(job)
        except BaseException:
            release()
            raise
        job.on_end(release)
        job.launch(lambda: _drive(loop, client, config, work, run_id))
        return job


_REGISTRY = JobRegistry()


def default_registry() -> JobRegistry:
    """The process-wide registry (the Run page caches it; tests use it to wait for jobs)."""
    return _REGISTRY


async def _drive(loop: EGuRLoop, client: Any, config: LoopConfig, work: Workload, run_id: str) -> None:
    """The thread's coroutine: run, always close the client, and never leave the run marked running."""
    try:
        await loop.run(config, work, run_id=run_id)
    except BaseException as exc:
        _mark_failed(loop.memory, run_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()


def _mark_failed(memory: MemoryAccess, run_id: str, message: str) -> None:
    """The loop marks failures inside its problem loop; this covers failures before it (bad benchmark)."""
    try:
        with memory.session() as store:
            if store.get_run(run_id)["status"] == "running":
                store.set_run_status(run_id, "failed", message)
    except Exception:  # the original error matters more than this bookkeeping
        pass
