"""Plain chat calls: pricing, accounting, errors, concurrency, and the simulated endpoint's wiring."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest

from egur_core.app.services import build_client
from egur_core.llm import CallRecord, LLMClient, LLMError, Usage, simulated_settings
from egur_core.strategy.sampling import Sampling
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.llm import USER, run_with_client


async def _with(settings, body):
    """``body(client)`` on a client built from ``settings``, closed afterwards."""
    client = LLMClient(settings)
    try:
        return await body(client)
    finally:
        await client.aclose()


def test_cost_is_computed_from_configured_prices():
    records: list[CallRecord] = []
    with FakeOpenAIServer("strict") as server:
        res = run_with_client(server, lambda c: c.chat(USER, alias="large", role="guide"), records)
    expected = (res.usage.prompt_tokens * 2.50 + res.usage.completion_tokens * 10.00) / 1e6
    assert res.usage.estimated is False and res.usage.prompt_tokens > 0
    assert res.cost_usd == pytest.approx(expected)
    assert records[0].cost_usd == pytest.approx(expected)
    assert (records[0].role, records[0].alias, records[0].model) == ("guide", "large", "fake-pro")


def test_cost_method_prices_usage_for_an_alias_or_a_role():
    client = build_client(simulated_settings())
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert client.cost("small", usage) == pytest.approx(0.15 + 0.60)
    assert client.cost("guide", usage) == pytest.approx(2.50 + 10.00)


def test_role_name_resolves_to_that_roles_model():
    with FakeOpenAIServer("strict") as server:
        res = run_with_client(server, lambda c: c.chat(USER, alias="executor", role="executor"))
    assert res.model == "fake-mini" and res.alias == "small"
    assert server.chat_requests()[0]["model"] == "fake-mini"


def test_sampling_parameters_are_sent_as_given():
    with FakeOpenAIServer("strict") as server:
        run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor",
                                                 sampling=Sampling(temperature=0.7, top_p=0.9, max_tokens=77)))
    sent = server.chat_requests()[0]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.7, 0.9, 77)
    assert "n" not in sent


def test_n_samples_come_from_one_call_when_the_endpoint_supports_n():
    with FakeOpenAIServer("strict") as server:
        res = run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor", sampling=Sampling(n=4)))
    assert len(res.texts) == 4 and res.calls == 1
    assert [b.get("n") for b in server.chat_requests()] == [4]


def test_wrong_api_key_is_an_auth_error_that_never_shows_the_key():
    secret = "sk-wrong-SECRET-abcdef123456"
    with FakeOpenAIServer("strict") as server:
        settings = settings_for(server)
        settings.endpoints["default"].api_key = secret  # type: ignore[assignment]  (validated on assignment)

        with pytest.raises(LLMError) as info:
            asyncio.run(_with(settings, lambda c: c.chat(USER, alias="small", role="executor")))
    assert info.value.kind == "auth"
    assert secret not in str(info.value) and secret not in info.value.detail
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {secret}"


def test_connection_refused_is_a_connection_error():
    with FakeOpenAIServer("strict") as server:
        settings = settings_for(server, max_retries=0)
    # the server is stopped now: nothing listens on its port

    with pytest.raises(LLMError) as info:
        asyncio.run(_with(settings, lambda c: c.chat(USER, alias="small", role="executor")))
    assert info.value.kind == "connection"
    assert "127.0.0.1" in str(info.value)


def test_bad_request_is_raised_as_bad_request():
    from tests.fakes.openai_server import Reply

    with FakeOpenAIServer("strict") as server:
        server.push_reply(Reply(status=400, error_message="maximum context length is 8192 tokens"))
        with pytest.raises(LLMError) as info:
            run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"))
    assert info.value.kind == "bad_request"
    assert "maximum context length" in str(info.value)


def test_global_concurrency_cap_limits_calls_in_flight():
    async def body(client: LLMClient):
        return await asyncio.gather(*(client.chat(USER, alias="small", role="executor") for _ in range(5)))

    with FakeOpenAIServer("slow", slow_s=0.15) as server:
        settings = settings_for(server)
        settings.concurrency = 2
        results = asyncio.run(_with(settings, body))
    assert len(results) == 5
    assert server.max_in_flight == 2


def test_simulated_endpoint_talks_to_simulated_local_with_a_dummy_key():
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "sim-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})

    async def main():
        client = LLMClient(simulated_settings(), transport=httpx2.MockTransport(handler))
        try:
            return await client.chat(USER, alias="small", role="executor")
        finally:
            await client.aclose()

    res = asyncio.run(main())
    assert res.texts == ["hi"]
    assert seen[0].url.host == "simulated.local" and seen[0].url.path == "/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer sim"
    assert json.loads(seen[0].content)["model"] == "sim-mini"


def test_simulated_endpoint_embeds_locally_without_any_request():
    vectors = asyncio.run(build_client(simulated_settings()).embed(["a 3-SAT formula", "an AIME problem"]))
    assert len(vectors) == 2 and len(vectors[0]) == 256


def test_model_that_refuses_max_tokens_gets_max_completion_tokens_and_it_is_remembered():
    from tests.fakes.openai_server import Reply

    async def body(client: LLMClient):
        await client.chat(USER, alias="small", role="executor", sampling=Sampling(max_tokens=50))
        await client.chat(USER, alias="small", role="executor", sampling=Sampling(max_tokens=60))

    with FakeOpenAIServer("strict") as server:
        server.push_reply(Reply(status=400, error_message="Unsupported parameter: 'max_tokens' is not supported "
                                "with this model. Use 'max_completion_tokens' instead."))
        run_with_client(server, body)
    sent = server.chat_requests()
    assert [("max_tokens" in b, b.get("max_completion_tokens")) for b in sent] == [(True, None), (False, 50),
                                                                                  (False, 60)]


def test_model_that_refuses_temperature_is_called_without_sampling_parameters():
    from tests.fakes.openai_server import Reply

    with FakeOpenAIServer("strict") as server:
        server.push_reply(Reply(status=400, error_message="Unsupported value: 'temperature' does not support 0.0 "
                                "with this model. Only the default (1) value is supported."))
        res = run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"))
    assert res.texts == ["OK"]
    assert "temperature" not in server.chat_requests()[1] and "top_p" not in server.chat_requests()[1]


def test_one_client_serves_several_event_loops():
    """The dashboard reuses a client across runs, each with its own asyncio.run."""
    with FakeOpenAIServer("strict") as server:
        client = LLMClient(settings_for(server))
        first = asyncio.run(client.chat(USER, alias="small", role="executor"))
        second = asyncio.run(client.chat(USER, alias="small", role="executor"))
    assert first.texts == second.texts == ["OK"]
