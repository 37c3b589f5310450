"""The offline simulated model, spoken to through the real openai client."""

from __future__ import annotations

import asyncio
import time

import pytest

from egur_core.evals.datasets.registry import load_problems, score_prediction
from egur_core.llm import LLMClient, simulated_settings
from egur_core.memory.embedding import local_embedding
from egur_core.reasoner.consolidator import ConsolidatorReply, consolidator_messages
from egur_core.reasoner.guide import GuideReply, guide_messages
from egur_core.runtime.engine import Runtime
from egur_core.sim import SimulatedTransport
from egur_core.sim.strategies import code_once, sat_solver
from egur_core.strategy.model import Strategy
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.tool_protocol import input_from_arguments
from egur_core.strategy.validation import validate_strategy
from egur_core.tools.registry import default_registry

SETTINGS = simulated_settings(seed=3)


def ask(coro_factory, latency=0.0):
    async def go():
        client = LLMClient(SETTINGS, transport=SimulatedTransport(seed=3, latency_s=latency),
                           local_embed=local_embedding)
        try:
            return await coro_factory(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def guide_for(problem: str, library=(), notes=(), k=3):
    tools = default_registry().catalog()
    return guide_messages(problem, k, list(library), list(notes), tools, SETTINGS.model_catalog())


def test_the_guide_writes_k_valid_and_distinct_strategies():
    reply = ask(lambda c: c.structured(guide_for("p cnf 3 1\n1 2 3 0"), GuideReply, alias="large", role="guide"))
    strategies = [p.strategy for p in reply.value.candidates]
    assert len(strategies) == 3 and len({s["name"] for s in strategies}) == 3
    for data in strategies:
        _, issues = validate_strategy(data, default_registry().names(), SETTINGS.known_aliases())
        assert issues == []


def test_the_guide_puts_a_proven_library_strategy_first():
    proven = {"entry_id": 7, "similarity": 0.99, "uses": 9, "successes": 9, "success_rate": 1.0,
              "mean_cost_usd": 0.0, "strategy_name": "sat-solver", "strategy": sat_solver()}
    reply = ask(lambda c: c.structured(guide_for("p cnf 3 1\n1 2 3 0", library=[proven]), GuideReply,
                                       alias="large", role="guide"))
    first = reply.value.candidates[0]
    assert first.use == "entry:7" and first.strategy is None and "entry 7" in first.rationale  # the compact form


def test_the_consolidator_caches_the_cheapest_right_strategies():
    cheap, dear = code_once(), sat_solver()
    candidates = [
        {"candidate": 0, "strategy_name": cheap["name"], "strategy_hash": "a", "strategy": cheap, "correct": True,
         "cost_usd": 0.001},
        {"candidate": 1, "strategy_name": dear["name"], "strategy_hash": "b", "strategy": dear, "correct": True,
         "cost_usd": 0.0},
        {"candidate": 2, "strategy_name": "cot-cheap", "strategy_hash": "c", "strategy": cheap, "correct": False,
         "cost_usd": 0.002},
    ]
    messages = consolidator_messages("p cnf 3 1\n1 2 3 0", "sat3", candidates, [], [], label_free=False)
    reply = ask(lambda c: c.structured(messages, ConsolidatorReply, alias="large", role="consolidator"))
    adds = [op["strategy"]["name"] for op in reply.value.ops if op["op"] == "add_entry"]
    assert adds == ["sat-solver", cheap["name"]]  # cheapest first; the wrong one never
    assert any(op["op"] == "add_note" and "'sat-solver'" in op["text"] for op in reply.value.ops)


def accuracy(strategy: dict, benchmark: str, n: int = 30) -> float:
    problems = load_problems(benchmark, n, 0)

    async def run_all(client):
        runtime = Runtime(client, default_registry())
        return await asyncio.gather(*(runtime.execute(Strategy.model_validate(strategy), p.text) for p in problems))

    results = ask(run_all)
    return sum(score_prediction(r.answer or "", p) for r, p in zip(results, problems)) / n


def test_writing_code_beats_answering_directly_on_arithmetic():
    direct = {"name": "direct", "steps": [{"id": "a", "op": "llm", "prompt": "{problem}", "out": "r"},
                                          {"id": "f", "op": "answer", "from": "r"}]}
    assert accuracy(code_once(), "bbeh:multistep_arithmetic") >= accuracy(direct, "bbeh:multistep_arithmetic") + 0.3


def chat(messages, **kw):
    sampling = Sampling(**{"max_tokens": 2048, **kw})
    return ask(lambda c: c.chat(messages, alias="small", role="executor", sampling=sampling))


PROBLEM = load_problems("bbeh:object_counting", 1, 0)[0].text
COT = [{"role": "system", "content": "Think step by step."}, {"role": "user", "content": PROBLEM}]


def test_a_token_limit_below_the_reasoning_truncates_the_reply():
    result = chat(COT, max_tokens=50)
    assert result.finish_reasons == ["length"] and "The answer is" not in result.texts[0]
    assert result.usage.completion_tokens == 50


def test_temperature_zero_repeats_and_sampling_varies():
    greedy = chat(COT, n=4)
    sampled = chat(COT, n=8, temperature=0.9)
    assert len(set(greedy.texts)) == 1
    assert len(set(sampled.texts)) > 1


def test_every_reply_reports_realistic_usage_and_cost():
    result = chat(COT)
    assert result.usage.prompt_tokens == pytest.approx(len(PROBLEM + "Think step by step.") / 4, rel=0.1)
    assert result.usage.completion_tokens > 100 and result.cost_usd > 0 and not result.usage.estimated


def test_the_configured_latency_applies_per_call():
    started = time.perf_counter()
    ask(lambda c: c.chat(COT, alias="small", role="executor"), latency=0.3)
    assert time.perf_counter() - started >= 0.3


def test_the_large_model_costs_more_and_is_right_more_often():
    cot = lambda model: {"name": f"cot-{model}", "steps": [  # noqa: E731
        {"id": "a", "op": "llm", "model": model, "system": "Think step by step.", "prompt": "{problem}", "out": "r"},
        {"id": "f", "op": "answer", "from": "r"}]}
    assert accuracy(cot("large"), "bbeh:object_counting") > accuracy(cot("small"), "bbeh:object_counting")
    assert SETTINGS.resolve("large").price_out > 10 * SETTINGS.resolve("small").price_out


def test_embeddings_are_served_locally_and_deterministically():
    async def embed(client):
        return await client.embed(["3-SAT formula", "3-SAT formula"])

    first, second = ask(embed)
    assert first == second and len(first) == 256


def test_unknown_problems_still_get_an_answer():
    result = chat([{"role": "user", "content": "What is the capital of a country that does not exist?"}])
    assert "The answer is:" in result.texts[0]


def test_any_structured_request_gets_a_schema_valid_reply():
    from pydantic import BaseModel

    class Verdict(BaseModel):
        label: str
        score: int

    reply = ask(lambda c: c.structured([{"role": "user", "content": "Rate this."}], Verdict, alias="small",
                                       role="executor"))
    assert reply.mode == "json_schema_strict" and isinstance(reply.value, Verdict)


def test_the_simulated_model_answers_a_tools_request_with_tool_calls_then_a_final_answer():
    problem = load_problems("sat3", 1, 0)[0]
    tools = default_registry().definitions(["sat_solver"])
    messages = [{"role": "user", "content": problem.text}]

    async def agent_turns(client):
        first = await client.chat(messages, alias="large", role="executor", tools=tools)
        [call] = first.tool_calls
        history = [*messages, {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}]},
            {"role": "tool", "tool_call_id": call.id, "content": await solve(call.arguments)}]
        return first, await client.chat(history, alias="large", role="executor", tools=tools)

    async def solve(arguments):
        return (await default_registry().get("sat_solver").run(input_from_arguments(arguments))).output

    first, final = ask(agent_turns)
    assert first.tool_calls[0].name == "sat_solver" and first.finish_reasons == ["tool_calls"]
    assert final.tool_calls == [] and score_prediction(final.texts[0], problem)
