"""What every method shares (EGuR and each baseline): one online pass over a workload, recorded alike.

A method only says how it solves one task (:meth:`Method.solve`); recording the run, resuming
after the last finished problem, stopping between problems, run statuses and the event stream
happen here, once, so EGuR and the baselines are run and recorded exactly alike.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, Field

from egur_core.memory.records import RunConfig
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.events import LoopEvent
from egur_core.reasoner.ordering import RunOrder, Stopped, problem_order
from egur_core.reasoner.task import Task, Workload
from egur_core.runtime.engine import Runtime
from egur_core.strategy.roles import ROLES


class Solve(Protocol):
    """Solves one task inside a run's problem order: reads memory inside ``order.starting(position)``, writes
    it inside ``order.committing(position)`` and there hands its outcome to ``order.done``."""

    def __call__(self, idx: int, task: Task, order: RunOrder, position: int) -> Awaitable[None]: ...


class MemoryAccess(Protocol):
    def session(self) -> AbstractContextManager[MemoryStore]: ...


class OpenStore:
    """A store that is already open (tests, ``:memory:``) used where a ``MemoryFile`` is expected."""

    def __init__(self, store: MemoryStore):
        self.store = store

    @contextmanager
    def session(self) -> Iterator[MemoryStore]:
        yield self.store


class Models(Protocol):
    """What methods need from the model client (``LLMClient``)."""

    settings: Any

    async def chat(self, messages: list[dict], **kw: Any) -> Any: ...
    async def structured(self, messages: list[dict], schema: Any, **kw: Any) -> Any: ...


class ProblemOutcome(BaseModel):
    """One finished problem, as every method reports it (the ``problem_finished`` event's payload)."""

    idx: int
    problem_id: str
    correct: bool | None
    answer: str | None
    exploited: bool = False
    cost_usd: float
    cost_by_role: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(ROLES, 0.0))
    tokens_by_role: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    prompt_tokens: int = Field(0, description="prompt tokens of every role")
    tokens_cached_in: int = Field(0, description="of which served from the provider's prompt cache")
    chosen_strategy: str | None
    candidates: int
    ops_applied: int = 0
    ops_proposed: int = 0
    fallback: bool = Field(False, description="the Guide proposed nothing runnable; the fallback strategy ran")
    note: str | None = Field(None, description="what happened on the way, in a few words (negotiation, fallback)")
    failure: str | None = Field(None, description="why the problem got no answer: '<kind>: <message>'")
    failure_kind: str | None = Field(None, description="the model client's failure kind, when one left it unanswered")


FAIL_AFTER = 3
"""Problems in a row left unanswered by the same kind of endpoint failure before the run stops as failed."""

class Method:
    """A way to solve a stream of tasks online; subclasses set ``name`` and hand :meth:`run_stream`
    their way of solving one task."""

    name: ClassVar[str] = "method"

    def __init__(self, llm: Models, tools: Any, memory: MemoryAccess, *,
                 on_event: Callable[[LoopEvent], None] | None = None, stop: threading.Event | None = None):
        self.llm, self.tools, self.memory = llm, tools, memory
        self.runtime = Runtime(llm, tools, concurrency=llm.settings.concurrency)
        self.on_event = on_event or (lambda event: None)
        self.stop = stop or threading.Event()

    def create_run(self, benchmark: str, *, n: int, k: int, seed: int, label: str = "",
                   comparison_id: str | None = None, config: dict[str, Any] | None = None) -> str:
        """Record a new run of this method with the model settings it runs on (never the API key)."""
        settings = self.llm.settings
        with self.memory.session() as store:
            return store.create_run(RunConfig(
                benchmark=benchmark, method=self.name, label=label, n_problems=n, k=k, seed=seed,
                simulated=settings.is_simulated, model=settings.resolve("executor").model,
                comparison_id=comparison_id, config={**(config or {}), "settings": settings.safe_dict()},
                price_known=settings.every_role_priced()))

    async def run_stream(self, run_id: str, workload: Workload, solve: Solve,
                         parallel: int = 1, ordered: bool = True) -> list[ProblemOutcome]:
        """Every task not finished yet, up to ``parallel`` at once, in problem order (the meaning of one at a time)
        or, not ``ordered``, as each is ready (see ``ordering.py``); stops between problems when asked, or when the
        endpoint keeps failing. Returns this call's outcomes, in the order they were committed."""
        with self.memory.session() as store:
            done = store.finished_indices(run_id)
            store.set_run_status(run_id, "running")
        self.emit("run_started", run_id, None, total=len(workload), resumed_after=len(done))
        todo = [(idx, task) for idx, task in enumerate(workload.tasks) if idx not in done]
        outcomes: list[ProblemOutcome] = []
        status: list[tuple[str, str | None]] = []

        def finished(outcome: ProblemOutcome) -> None:
            outcomes.append(outcome)
            self.emit("problem_finished", run_id, outcome.idx, **outcome.model_dump(exclude={"idx"}))
            failing = endpoint_failing(outcomes)
            if failing is not None and not status:
                status.append(("failed", failing))
                order.halt()

        order = problem_order(len(todo), parallel, ordered=ordered, on_done=finished, should_stop=self.stop.is_set)

        async def one(position: int, idx: int, task: Task) -> None:
            try:
                await solve(idx, task, order, position)
            except Stopped:
                return

        tasks = [asyncio.ensure_future(one(p, idx, task)) for p, (idx, task) in enumerate(todo)]
        try:
            await asyncio.gather(*tasks)
        except BaseException as exc:
            order.halt()
            for running in tasks:
                running.cancel()
            self.finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        if not status:
            status.append(("finished", None) if len(outcomes) == len(todo) else ("stopped", None))
        self.finish_run(run_id, *status[0])
        return outcomes

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.memory.session() as store:
            store.set_run_status(run_id, status, error)
        self.emit("run_finished", run_id, None, status=status, error=error)

    def emit(self, kind: str, run_id: str, idx: int | None, **payload: Any) -> None:
        self.on_event(LoopEvent(kind=kind, run_id=run_id, idx=idx, payload={"method": self.name, **payload}))


def endpoint_failing(outcomes: list[ProblemOutcome]) -> str | None:
    """The error to stop on: the last ``FAIL_AFTER`` problems all went unanswered by the same kind of failure."""
    last = outcomes[-FAIL_AFTER:]
    kinds = {o.failure_kind for o in last}
    if len(last) < FAIL_AFTER or len(kinds) != 1 or None in kinds:
        return None
    return f"stopped after {FAIL_AFTER} problems in a row got no answer: {last[-1].failure}"
