"""Ask, as the dashboard page and ``egur ask`` use it: one blocking call per step, on the memory file.

Each step builds a model client for the current settings, runs one stage of
:class:`egur_core.reasoner.ask.AskLoop` on its own event loop and closes the client; the state in
between lives in the memory file. A question is typed, or picked from any dataset (shipped or
stored); a picked one brings its dataset's verifier and scoring rule, so a right answer the person
types is compared the way that dataset compares answers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from egur_core.app.services import build_client, build_tools
from egur_core.evals.datasets import stored
from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.catalog import is_shipped
from egur_core.evals.datasets.recent import remember
from egur_core.evals.datasets.registry import get_benchmark, score_prediction
from egur_core.evals.datasets.registry import load_problems as load_shipped
from egur_core.evals.datasets.scorers import SCORER_KEY, same_answer
from egur_core.evals.datasets.verifier import SandboxVerifier
from egur_core.llm import Settings
from egur_core.reasoner.ask import AskLoop, AskState, load, marks_to_feedback
from egur_core.reasoner.loop import LoopConfig
from egur_core.reasoner.method import MemoryAccess
from egur_core.reasoner.task import Task, Verifier

TYPED = "ask"  # the benchmark of a typed question
T = TypeVar("T")
ClientFactory = Callable[[Settings], Any]


class AskRequest(BaseModel):
    """A typed problem, or one picked from a dataset by id."""

    text: str = ""
    dataset: str | None = None
    problem_id: str | None = None
    k: int = Field(3, ge=1, le=8)


def _typed_task(text: str) -> Task:
    text = text.strip()
    if not text:
        raise ValueError("type a problem, or pick one from a dataset")
    return Task(id="ask-" + hashlib.sha256(text.encode()).hexdigest()[:10], benchmark=TYPED, text=text)


def dataset_problem(memory: MemoryAccess, dataset: str, problem_id: str) -> Problem:
    """One problem of a shipped or stored dataset, with its answer; KeyError when there is none."""
    if is_shipped(dataset):
        found = next((p for p in load_shipped(dataset, None, 0) if p.id == problem_id), None)
    else:
        with memory.session() as store:
            found_set = stored.get_dataset(store, dataset)
            if found_set is None:
                raise KeyError(f"no dataset named {dataset!r}")
            found = next((p for p in stored.find_problems(store, found_set, problem_id, 500) if p.id == problem_id),
                         None)
    if found is None:
        raise KeyError(f"no problem {problem_id!r} in {dataset}")
    remember([found])  # as a run would: the simulated model may recognise a problem this process loaded
    return found


def resolve(memory: MemoryAccess, request: AskRequest) -> Task:
    if request.dataset and request.problem_id:
        problem = dataset_problem(memory, request.dataset, request.problem_id)
        return Task(id=problem.id, benchmark=get_benchmark(request.dataset).name if is_shipped(request.dataset)
                    else problem.benchmark, text=problem.text)
    return _typed_task(request.text)


def verifier_for(memory: MemoryAccess, benchmark: str) -> Verifier | None:
    """The label-free check the question's dataset brings (shipped, or a stored one's sandboxed verifier)."""
    if benchmark == TYPED:
        return None
    if is_shipped(benchmark):
        return get_benchmark(benchmark).verifier
    with memory.session() as store:
        dataset = stored.get_dataset(store, benchmark)
    return SandboxVerifier(dataset.verifier) if dataset is not None and dataset.verifier else None


def reference_answer(memory: MemoryAccess, state: AskState) -> str | None:
    """The dataset's own answer to a picked problem (None for a typed one): offered only after the run."""
    if state.task.benchmark == TYPED or state.stage == "proposed":
        return None
    try:
        return dataset_problem(memory, state.task.benchmark, state.task.id).answer or None
    except KeyError:
        return None


def grade_against(memory: MemoryAccess, state: AskState, gold: str) -> dict[int, bool | None]:
    """Each answer against the right answer a person gave, by the question's dataset's rule (typed: lenient)."""
    if state.task.benchmark == TYPED:
        rule: Callable[[str], bool] = lambda answer: same_answer(answer, gold)  # noqa: E731
    else:
        problem = dataset_problem(memory, state.task.benchmark, state.task.id).model_copy(update={"answer": gold})
        rule = lambda answer: score_prediction(answer, problem)  # noqa: E731
    return {i: (bool(r.ok) and rule(r.answer or "")) for i, r in state.results.items()}


def _drive(settings: Settings, memory: MemoryAccess, step: Callable[[AskLoop], Awaitable[T]],
           client_factory: ClientFactory | None) -> T:
    """One step on its own event loop with a fresh client (what an endpoint accepted is kept in the memory file)."""
    async def go() -> T:
        client = client_factory(settings) if client_factory else build_client(settings, memory=memory)
        try:
            return await step(AskLoop(client, build_tools(), memory))
        finally:
            await client.aclose()
    return asyncio.run(go())


def start(memory: MemoryAccess, settings: Settings, request: AskRequest, *,
          client_factory: ClientFactory | None = None) -> AskState:
    """Record a new question, retrieve its memory and get the Guide's candidates."""
    task = resolve(memory, request)
    config = LoopConfig(benchmark=task.benchmark, n=1, k=request.k, label="ask")
    return _drive(settings, memory, lambda loop: loop.begin(task, config), client_factory)


def load_state(memory: MemoryAccess, run_id: str) -> AskState:
    with memory.session() as store:
        return load(store, run_id)


def run(memory: MemoryAccess, settings: Settings, run_id: str, picks: list[int] | None = None, *,
        client_factory: ClientFactory | None = None) -> AskState:
    """Run the picked candidates (indices; None: all not run yet) and choose the answer."""
    state = load_state(memory, run_id)
    verifier = verifier_for(memory, state.task.benchmark)
    return _drive(settings, memory, lambda loop: loop.run_candidates(state, picks, verifier), client_factory)


def tell(memory: MemoryAccess, settings: Settings, run_id: str, *, gold: str | None = None,
         marks: dict[int, bool] | None = None, client_factory: ClientFactory | None = None) -> AskState:
    """The person's verdict (the right answer, or marks by candidate; neither: label-free); the Consolidator
    then proposes its edits, which :func:`finish` applies or queues."""
    state = load_state(memory, run_id)
    feedback = None
    if gold is not None and gold.strip():
        feedback = grade_against(memory, state, gold.strip())
    elif marks:
        feedback = marks_to_feedback(state, marks)
    verifier = verifier_for(memory, state.task.benchmark) if feedback is None else None
    return _drive(settings, memory, lambda loop: loop.learn(state, feedback, gold.strip() if gold else None,
                                                            verifier), client_factory)


def finish(memory: MemoryAccess, settings: Settings, run_id: str, apply: bool, *,
           client_factory: ClientFactory | None = None) -> AskState:
    """Apply the Consolidator's edits (or queue them for review) and record the question as a finished run."""
    state = load_state(memory, run_id)

    async def commit(loop: AskLoop) -> AskState:
        return loop.commit(state, apply)
    return _drive(settings, memory, commit, client_factory)


def scorer_of(problem: Problem) -> str:
    """How a picked problem's answers are compared, in words (for the page)."""
    rule = problem.meta.get(SCORER_KEY)
    return f"{rule.get('kind', 'exact')} match" if isinstance(rule, dict) else f"{problem.benchmark}'s official rule"
