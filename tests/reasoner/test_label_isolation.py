"""The answer that counts is chosen before any label is seen, by construction; no label ever leaves the process."""

from __future__ import annotations

import asyncio
import json

import duckdb
import pytest

from egur_core.evals.baselines import BASELINES, BaselineConfig
from egur_core.evals.datasets.registry import load_problems, workload
from egur_core.llm import LLMClient
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import LoopConfig
from egur_core.reasoner.method import OpenStore
from egur_core.reasoner.task import Task, Workload
from egur_core.tools.registry import default_registry
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

SENTINEL = "SENTINEL-GOLD-7c3f9e"
BENCH = "bbeh:object_counting"


def sentinel_problems(n: int, seed: int = 0):
    return [p.model_copy(update={"answer": SENTINEL}) for p in load_problems(BENCH, n, seed)]


class WatchedGrader:
    """Grades like the dataset does and notes, in one shared log with the loop's events, when it is asked."""

    def __init__(self, inner, log: list[str]):
        self.inner, self.log = inner, log

    def grade(self, task: Task, answer: str) -> bool:
        self.log.append(f"grade {task.id}")
        return self.inner.grade(task, answer)

    def gold(self, task: Task) -> str | None:
        self.log.append(f"gold {task.id}")
        return self.inner.gold(task)


def test_every_problem_is_graded_only_after_its_answer_was_chosen():
    log: list[str] = []
    base = workload("sat3", 6, 1)
    watched = Workload(base.benchmark, base.tasks, WatchedGrader(base.grader, log), base.verifier)
    store = MemoryStore(duckdb.connect(":memory:"))

    def on_event(event):
        if event.kind in ("answer_chosen", "candidates_proposed"):
            log.append(f"{event.kind} {base.tasks[event.idx].id}")

    run_loop(store, LoopConfig(benchmark="sat3", n=6, k=3, seed=1), workload=watched, on_event=on_event)
    for task in base.tasks:
        first_grade = next(i for i, line in enumerate(log) if line.endswith(task.id) and line.startswith("grade"))
        assert log.index(f"answer_chosen {task.id}") < first_grade, log


def test_no_request_of_egur_carries_the_gold_answer():
    store = MemoryStore(duckdb.connect(":memory:"))
    problems = sentinel_problems(3)
    with FakeOpenAIServer("strict") as server:
        run_loop(store, LoopConfig(benchmark=BENCH, n=3, k=2), settings=settings_for(server), problems=problems)
        bodies = [json.dumps(body) for body in server.chat_requests()]
    assert bodies and not any(SENTINEL in body for body in bodies)
    assert store.query("SELECT count(*) AS n FROM problems WHERE gold = ?", [SENTINEL])[0]["n"] == 3  # kept locally


@pytest.mark.parametrize("method", sorted(BASELINES))
def test_no_request_of_a_baseline_carries_the_gold_answer(method: str):
    store = MemoryStore(duckdb.connect(":memory:"))
    with FakeOpenAIServer("strict") as server:
        client = LLMClient(settings_for(server))
        baseline = BASELINES[method](client, default_registry(), OpenStore(store))
        config = BaselineConfig(benchmark=BENCH, n=2, scope=f"t/{method}")

        async def go():
            try:
                info = await baseline.prepare(config, workload(BENCH, problems=sentinel_problems(2, seed=1)))
                await baseline.run(config, workload(BENCH, problems=sentinel_problems(2)), info=info)
            finally:
                await client.aclose()

        asyncio.run(go())
        bodies = [json.dumps(body) for body in server.chat_requests()]
    assert bodies and not any(SENTINEL in body for body in bodies)
