"""The LLM judge: a call in its own role, its cost apart from the method's, each judgement kept with its reason."""

from __future__ import annotations

import json

import pytest

from egur_core.app.services import build_client, open_memory
from egur_core.evals.datasets import catalog, stored
from egur_core.evals.datasets.base import Problem, as_task
from egur_core.evals.datasets.judge import JudgeGrader, judgements
from egur_core.evals.datasets.scorers import ScorerSpec
from egur_core.evals.datasets.stored import DatasetSpec
from egur_core.llm import LLMClient
from egur_core.llm.config import simulated_settings
from egur_core.reasoner.loop import LoopConfig
from egur_core.reasoner.method import OpenStore
from egur_core.reasoner.role_calls import parse_context
from egur_core.strategy.roles import METHOD_ROLES
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

RUBRIC = "Correct when it names the city; the country alone is not enough."
PROBLEM = Problem(id="q1", benchmark="cities", family="user", text="Where is the Louvre?", answer="Paris")


@pytest.fixture
def server():
    with FakeOpenAIServer("strict") as running:
        yield running


def grader_over(server, store) -> JudgeGrader:
    return JudgeGrader([PROBLEM], ScorerSpec(kind="judge", rubric=RUBRIC), LLMClient(settings_for(server)),
                       OpenStore(store), "cities")


def test_the_judge_grades_over_http_with_the_rubric_and_the_reference(server, store):
    server.push_reply({"reasoning": "It names Paris, the reference city.", "verdict": "correct"})
    grader = grader_over(server, store)
    assert grader.grade(as_task(PROBLEM), "It is in Paris, France.") is True
    context = parse_context(server.chat_requests()[-1]["messages"], "JUDGE_CONTEXT")
    assert context["rubric"] == RUBRIC and context["reference"] == "Paris" and context["final_answer"]
    (kept,) = judgements(store, "cities", "q1")
    assert kept["correct"] is True and kept["reasoning"] == "It names Paris, the reference city."
    assert kept["model"] == "fake-pro" and kept["cost_usd"] > 0


def test_the_judges_cost_is_counted_per_task_and_each_answer_judged_once(server, store):
    server.push_reply({"reasoning": "Only the country.", "verdict": "incorrect"})
    grader = grader_over(server, store)
    task = as_task(PROBLEM)
    assert grader.grade(task, "France") is False and grader.grade(task, "France") is False
    usage = grader.usage(task)
    assert len(server.chat_requests()) == 1 and usage.calls == 1 and usage.cost_usd > 0 and usage.tokens_in > 0
    assert grader.usage(as_task(PROBLEM.model_copy(update={"id": "other"}))).cost_usd == 0


def test_a_judge_that_cannot_answer_grades_wrong_and_says_why(store):
    with FakeOpenAIServer("server_error", fail_times=None) as failing:
        grader = grader_over(failing, store)
        assert grader.grade(as_task(PROBLEM), "Paris") is False
    (kept,) = judgements(store, "cities")
    assert kept["correct"] is None and "Judge call failed" in kept["error"]


def test_a_run_on_a_judged_dataset_bills_the_judge_apart(tmp_path):
    data = tmp_path / "cities.jsonl"
    data.write_text("".join(json.dumps({"id": f"c{i}", "problem": f"Which city is the capital of {country}?",
                                        "answer": city}) + "\n"
                            for i, (country, city) in enumerate([("France", "Paris"), ("Italy", "Rome")])))
    memory = open_memory(tmp_path / "m.duckdb")
    with memory.session() as store:
        stored.add_dataset(store, data, DatasetSpec(name="cities", scorer=ScorerSpec(kind="judge", rubric=RUBRIC)))
    settings = simulated_settings()
    work = catalog.workload("cities", 2, 0, memory=memory, llm=build_client(settings))
    run_id, _ = run_loop(memory, LoopConfig(benchmark="cities", n=2, k=2), settings=settings, workload=work)
    with memory.session() as store:
        rows = store.problem_rows(run_id)
        kept = judgements(store, "cities")
    assert (rows["cost_judge"] > 0).all() and (rows["tokens_judge_in"] > 0).all()
    method_cost = sum(rows[f"cost_{role}"] for role in METHOD_ROLES)
    assert rows["cost_usd"].tolist() == pytest.approx(method_cost.tolist())  # the judge is not the method's cost
    assert kept and all(k["reasoning"] and k["correct"] is not None for k in kept)
    assert {k["problem_id"] for k in kept} == {"c0", "c1"}
