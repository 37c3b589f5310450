"""The loop over HTTP against each real server family the fake server imitates: every problem gets an answer,
or the run stops with the endpoint's own reason."""

from __future__ import annotations

import asyncio

import duckdb
import pytest

from egur_core.app.services import build_client, open_memory
from egur_core.evals.datasets.registry import workload
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import EGuRLoop, LoopConfig
from egur_core.tools.registry import default_registry
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

FAMILIES = ["strict", "llama_cpp_python", "llama_cpp_old", "llama_server", "vllm", "ollama", "json_object_only",
            "text_only"]


def run_sat3(server: FakeOpenAIServer | None, n: int = 3, settings=None):
    store = MemoryStore(duckdb.connect(":memory:"))
    _, outcomes = run_loop(store, LoopConfig(benchmark="sat3", n=n, k=2, seed=2),
                           settings=settings or settings_for(server))
    return store, outcomes


@pytest.mark.parametrize("family", FAMILIES)
def test_every_problem_is_answered_even_when_the_guide_writes_nothing_runnable(family: str):
    with FakeOpenAIServer(family) as server:  # its replies are the schema's bare minimum: no runnable strategy
        store, outcomes = run_sat3(server)
    assert len(outcomes) == 3 and all(o.answer is not None and o.failure is None for o in outcomes)
    assert all(o.fallback and "fallback: chain-of-thought" in o.note for o in outcomes)
    run = store.list_runs().iloc[0]
    assert run["status"] == "finished"


@pytest.mark.parametrize("family", ["llama_cpp_python", "llama_cpp_old", "llama_server", "vllm", "ollama"])
def test_a_server_that_decodes_under_a_schema_gets_the_guides_strategy_schema(family: str):
    with FakeOpenAIServer(family) as server:
        run_sat3(server, n=1)
        guide = next(b for b in server.chat_requests() if "GUIDE_CONTEXT" in str(b["messages"]))
    fmt = guide["response_format"]
    schema = fmt.get("schema") or fmt["json_schema"]["schema"]
    assert schema["title"] == "GuideReply" and "LLMStep" in schema["$defs"]


def test_llama_cpp_python_refusals_step_down_at_once_without_retries():
    with FakeOpenAIServer("llama_cpp_python") as server:
        _, [outcome] = run_sat3(server, n=1)
        formats = [(b.get("response_format") or {}).get("type") for b in server.chat_requests()]
    assert formats.count("json_schema") == 2  # strict, then plain: one request each, no retry of a refusal
    assert "guide: strict json_schema rejected -> json_schema; json_schema rejected -> json_object+schema" \
        in outcome.note


def test_scripted_compact_candidates_run_and_the_solver_answers(tmp_path):
    with FakeOpenAIServer("llama_cpp_python") as server:
        server.push_reply({"candidates": [{"rationale": "decide it exactly", "use": "sat_solver"},
                                          {"rationale": "think", "use": "chain_of_thought",
                                           "set": {"temperature": 0.3}}]})
        store, [outcome] = run_sat3(server, n=1)
    assert outcome.correct is True and outcome.chosen_strategy == "cnf-to-solver" and not outcome.fallback
    derived = store.query("SELECT name, parent_hash, created_by FROM strategies WHERE parent_hash IS NOT NULL")
    assert [(r["name"], r["created_by"]) for r in derived] == [("chain-of-thought+temperature=0.3", "guide-compact")]


def test_what_an_endpoint_accepted_is_where_the_next_run_starts(tmp_path):
    memory = open_memory(tmp_path / "m.duckdb")

    async def one_run(settings) -> None:
        client = build_client(settings, memory=memory)  # a new client each time: what it knows is in the file
        try:
            await EGuRLoop(client, default_registry(), memory).run(LoopConfig(benchmark="sat3", n=1),
                                                                   workload("sat3", 1, 2))
        finally:
            await client.aclose()

    with FakeOpenAIServer("llama_cpp_python") as server:
        for _ in range(2):
            asyncio.run(one_run(settings_for(server)))
        formats = [(b.get("response_format") or {}).get("type") for b in server.chat_requests()]
    assert formats.count("json_schema") == 2  # negotiated in the first run only


@pytest.mark.parametrize("family, says", [("unauthorised", "API key was refused"),
                                          ("unknown_model", "not found (HTTP 404)")])
def test_an_endpoint_that_cannot_answer_stops_the_run_after_three_problems(family: str, says: str):
    with FakeOpenAIServer(family) as server:
        store, outcomes = run_sat3(server, n=6)
    run = store.list_runs().iloc[0]
    assert len(outcomes) == 3 and run["status"] == "failed" and says in run["error"]


def test_an_unreachable_endpoint_stops_the_run_after_three_problems():
    with FakeOpenAIServer("strict") as server:
        settings = settings_for(server, max_retries=0, timeout_s=2.0)
    store, outcomes = run_sat3(None, n=6, settings=settings)  # the server is gone
    run = store.list_runs().iloc[0]
    assert len(outcomes) == 3 and run["status"] == "failed" and "could not connect" in run["error"]

