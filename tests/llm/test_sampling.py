"""Every sampling knob reaches the wire when a step sets it, and only then; a refused knob is dropped and remembered."""

from __future__ import annotations

import pytest

from egur_core.llm import LLMClient
from egur_core.strategy.sampling import Sampling
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.llm import USER, run_with_client

KNOBS = {"seed": 7, "stop": ["END"], "reasoning_effort": "low", "presence_penalty": 0.5, "frequency_penalty": -0.5}


def ask(sampling: Sampling):
    return lambda c: c.chat(USER, alias="small", role="executor", sampling=sampling)


def test_the_knobs_a_step_sets_are_sent_as_given():
    with FakeOpenAIServer("strict") as server:
        run_with_client(server, ask(Sampling(max_tokens=40, temperature=0.4, **KNOBS)))
        [body] = server.chat_requests()
    assert {k: body[k] for k in KNOBS} == KNOBS and (body["max_tokens"], body["temperature"]) == (40, 0.4)


def test_unset_knobs_are_not_sent_at_all():
    with FakeOpenAIServer("strict") as server:
        run_with_client(server, ask(Sampling()))
        [body] = server.chat_requests()
    assert not set(KNOBS) & set(body)


def test_a_refused_reasoning_effort_is_dropped_and_remembered():
    async def twice(client):
        await ask(Sampling(**KNOBS))(client)
        return await ask(Sampling(**KNOBS))(client)

    with FakeOpenAIServer("no_reasoning_effort") as server:
        run_with_client(server, twice)
        bodies = server.chat_requests()
    assert ["reasoning_effort" in b for b in bodies] == [True, False, False]
    assert all(b["seed"] == 7 for b in bodies)  # only the refused knob is dropped


def test_samples_sent_one_by_one_get_consecutive_seeds():
    with FakeOpenAIServer("no_n") as server:
        run_with_client(server, ask(Sampling(n=3, temperature=0.8, seed=100)))
        seeds = sorted(b["seed"] for b in server.chat_requests()[1:])
    assert seeds == [101, 102]  # the first request (seed 100) asked for n=3 and got one


def test_the_worst_case_cost_prices_the_prompt_and_every_sample_at_max_tokens():
    with FakeOpenAIServer("strict") as server:
        client = LLMClient(settings_for(server))  # small: $0.15 in, $0.60 out per 1M tokens
        messages = [{"role": "user", "content": "x" * 400}]  # ~100 tokens + 4 overhead, with a 25% margin
        worst = client.max_cost_usd(messages, alias="small", max_tokens=1000, n=2)
    assert worst == pytest.approx((130 * 2 * 0.15 + 1000 * 2 * 0.60) / 1e6)
