"""The loop over a real HTTP endpoint (a local OpenAI-compatible server), not the simulated model."""

from __future__ import annotations

import json

import duckdb
import pytest

from egur_core.evals.datasets.registry import load_problems
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import LoopConfig
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

SOLVER = {"name": "solver", "steps": [{"id": "s", "op": "tool", "tool": "sat_solver", "input": "{problem}",
                                       "out": "r"}, {"id": "f", "op": "answer", "from": "r"}]}
GUESS = {"name": "guess", "steps": [{"id": "a", "op": "llm", "model": "small", "prompt": "{problem}", "out": "r"},
                                    {"id": "f", "op": "answer", "from": "r"}]}


def run_one(server: FakeOpenAIServer, store: MemoryStore):
    problem = load_problems("sat3", 1, 4)[0]

    _, outcomes = run_loop(store, LoopConfig(benchmark="sat3", n=1, k=2, seed=4), settings=settings_for(server),
                           problems=[problem])
    return outcomes[0]


@pytest.mark.parametrize("family", ["strict", "json_object_only", "text_only", "no_usage"])
def test_a_problem_runs_end_to_end_over_http(family):
    store = MemoryStore(duckdb.connect(":memory:"))
    with FakeOpenAIServer(family) as server:
        server.push_reply({"candidates": [{"rationale": "solver", "strategy": SOLVER},
                                          {"rationale": "guess", "strategy": GUESS}]})
        server.push_reply("UNSAT")  # the executor's guess
        server.push_reply({"summary": "cache the solver", "ops": [
            {"op": "add_entry", "signature": "3-SAT in DIMACS", "strategy": SOLVER, "benchmark": "sat3"}]})
        outcome = run_one(server, store)
        sent = server.chat_requests()
    assert outcome.correct is True and outcome.chosen_strategy == "solver"
    assert outcome.cost_by_role["guide"] > 0 and outcome.cost_by_role["consolidator"] > 0
    learned = store.list_entries().query("origin != 'seed'")
    assert learned["strategy_name"].tolist() == ["solver"]
    guide_request = json.dumps(sent[0]["messages"])
    assert "GUIDE_CONTEXT" in guide_request and "sat_solver" in guide_request


def test_an_endpoint_that_keeps_failing_fails_the_problem_not_the_run():
    store = MemoryStore(duckdb.connect(":memory:"))
    with FakeOpenAIServer("server_error", fail_times=None) as server:
        outcome = run_one(server, store)
    assert outcome.answer is None and outcome.fallback and outcome.failure_kind == "server"
    [row] = store.problem_rows(store.list_runs()["run_id"][0]).to_dict("records")
    assert "Guide call failed" in row["error"] and row["finished_at"] is not None


@pytest.mark.parametrize("ordered", [True, False], ids=["in-order", "as-ready"])
def test_problems_in_flight_over_http_are_each_answered_once(ordered):
    store = MemoryStore(duckdb.connect(":memory:"))
    config = LoopConfig(benchmark="sat3", n=6, k=2, seed=4, parallel=3, ordered=ordered)
    with FakeOpenAIServer("llama_cpp_python") as server:  # bare replies: the shipped fallback answers
        run_id, outcomes = run_loop(store, config, settings=settings_for(server))
    assert sorted(o.idx for o in outcomes) == list(range(6))
    assert all(o.answer is not None for o in outcomes)
    assert store.finished_indices(run_id) == set(range(6)) and store.get_run(run_id)["status"] == "finished"
