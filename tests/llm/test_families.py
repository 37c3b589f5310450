"""One test per endpoint family the fake server imitates: the client must cope with each."""

from __future__ import annotations

import time

import pytest

from egur_core.llm import CallRecord, LLMClient, LLMError
from egur_core.memory.embedding import LOCAL_EMBEDDING_DIM
from egur_core.strategy.sampling import Sampling
from tests.fakes.openai_server import EMBED_DIM, FakeOpenAIServer
from tests.llm import USER, Answer, run_with_client


def _rf_types(server: FakeOpenAIServer) -> list[str | None]:
    return [(body.get("response_format") or {}).get("type") for body in server.chat_requests()]


def test_strict_endpoint_gets_a_strict_json_schema():
    with FakeOpenAIServer("strict") as server:
        server.push_reply({"answer": "5", "reasoning": "2+3"})
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value == Answer(answer="5", reasoning="2+3")
    assert res.mode == "json_schema_strict" and res.error is None
    sent = server.chat_requests()[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["name"] == "Answer"


def test_json_object_only_endpoint_steps_down_and_remembers():
    async def body(client: LLMClient):
        first = await client.structured(USER, Answer, alias="large", role="guide")
        second = await client.structured(USER, Answer, alias="small", role="executor")
        return first, second

    with FakeOpenAIServer("json_object_only") as server:
        server.push_reply('{"answer": "5"}')
        server.push_reply('{"answer": "6"}')
        first, second = run_with_client(server, body)
    assert (first.value.answer, first.mode) == ("5", "json_object")
    assert (second.value.answer, second.mode) == ("6", "json_object")
    # strict and plain json_schema and json_object+schema refused once each; the second call starts at json_object
    assert _rf_types(server) == ["json_schema", "json_schema", "json_object", "json_object", "json_object"]
    assert first.negotiation == ["strict json_schema rejected -> json_schema",
                                 "json_schema rejected -> json_object+schema",
                                 "json_object+schema rejected -> json_object"]
    system = server.chat_requests()[3]["messages"][0]
    assert system["role"] == "system" and "JSON" in system["content"] and '"answer"' in system["content"]


def test_text_only_endpoint_falls_back_to_plain_text_with_repair():
    with FakeOpenAIServer("text_only") as server:
        server.push_reply('Sure! Here it is:\n```json\n{"answer": "5",}\n```')
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value is not None and res.value.answer == "5"
    assert res.mode == "text"
    assert _rf_types(server) == ["json_schema", "json_schema", "json_object", "json_object", None]


def test_no_usage_endpoint_gets_estimated_flagged_usage_and_a_cost():
    records: list[CallRecord] = []
    with FakeOpenAIServer("no_usage") as server:
        server.push_reply("The answer is 5 because two plus three is five.")
        res = run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"), records)
    assert res.usage.estimated is True
    assert res.usage.prompt_tokens > 0 and res.usage.completion_tokens > 0
    assert res.cost_usd > 0
    assert records[0].usage.estimated is True


def test_no_embeddings_endpoint_falls_back_to_local_and_remembers():
    async def body(client: LLMClient):
        first = await client.embed(["alpha", "beta"])
        second = await client.embed(["gamma"])
        return first, second, client.embedding_id()

    with FakeOpenAIServer("no_embeddings") as server:
        first, second, space = run_with_client(server, body, embedding_model="text-embedding-3-small")
    assert [len(v) for v in first + second] == [LOCAL_EMBEDDING_DIM] * 3
    assert space == "local-256"
    assert [r["path"] for r in server.requests] == ["/v1/embeddings"]  # asked once, then remembered


def test_embeddings_endpoint_is_used_when_served():
    with FakeOpenAIServer("strict") as server:
        vectors = run_with_client(server, lambda c: c.embed(["alpha", "beta"]), embedding_model="emb-small")
    assert [len(v) for v in vectors] == [EMBED_DIM, EMBED_DIM]
    sent = server.requests[0]["body"]
    assert (sent["model"], sent["input"]) == ("emb-small", ["alpha", "beta"])


def test_rate_limit_once_is_retried_by_the_sdk():
    records: list[CallRecord] = []
    with FakeOpenAIServer("rate_limit_once") as server:
        res = run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"), records)
    assert res.texts == ["OK"]
    assert len(server.chat_requests()) == 2
    assert [r.ok for r in records] == [True]


def test_server_error_recovers_within_retries():
    with FakeOpenAIServer("server_error", fail_times=2) as server:
        res = run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"), max_retries=2)
    assert res.texts == ["OK"]
    assert len(server.chat_requests()) == 3


def test_server_error_always_raises_llm_error_and_reports_the_failed_call():
    records: list[CallRecord] = []
    with FakeOpenAIServer("server_error", fail_times=None) as server:
        with pytest.raises(LLMError) as info:
            run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"), records,
                            max_retries=1)
    assert info.value.kind == "server" and info.value.status == 500
    assert "HTTP 500" in str(info.value) and "\n" not in str(info.value)
    assert len(server.chat_requests()) == 2
    assert len(records) == 1 and records[0].ok is False and records[0].role == "executor"
    assert records[0].cost_usd == 0.0 and records[0].error


def test_truncated_reply_is_repaired_when_the_cut_leaves_valid_json():
    with FakeOpenAIServer("truncated") as server:
        server.push_reply({"answer": "5", "reasoning": "two plus three makes five, obviously, as anyone knows"})
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value is not None and res.value.answer == "5"
    assert res.value.reasoning.startswith("two")  # the cut-off string was closed, not dropped
    assert len(server.chat_requests()) == 1


def test_truncated_reply_that_cannot_be_repaired_is_retried_with_more_tokens():
    with FakeOpenAIServer("truncated") as server:  # only the first reply is cut
        server.push_reply({"reasoning": "two plus three makes five, as anyone knows", "answer": "5"})
        server.push_reply({"reasoning": "2+3", "answer": "5"})
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide",
                                                             max_tokens=100))
    assert res.value == Answer(answer="5", reasoning="2+3")
    first, second = server.chat_requests()
    assert second["max_tokens"] == 200
    assert "cut off" in second["messages"][-1]["content"]
    assert res.result is not None and res.result.calls == 2


def test_slow_endpoint_raises_a_timeout_llm_error():
    with FakeOpenAIServer("slow", slow_s=5.0) as server:
        start = time.perf_counter()
        with pytest.raises(LLMError) as info:
            run_with_client(server, lambda c: c.chat(USER, alias="small", role="executor"),
                            timeout_s=0.2, max_retries=0)
        waited = time.perf_counter() - start
    assert info.value.kind == "timeout"
    assert "0.2s" in str(info.value)
    assert waited < 4.0  # it gave up at the timeout, long before the server would have answered


def test_no_n_endpoint_gets_the_missing_samples_as_parallel_calls():
    async def body(client: LLMClient):
        first = await client.chat(USER, alias="small", role="executor", sampling=Sampling(n=3, temperature=0.7))
        second = await client.chat(USER, alias="small", role="executor", sampling=Sampling(n=2, temperature=0.7))
        return first, second

    with FakeOpenAIServer("no_n") as server:
        for i in range(5):
            server.push_reply(f"sample {i}")
        first, second = run_with_client(server, body)
    assert sorted(first.texts) == ["sample 0", "sample 1", "sample 2"]
    assert first.calls == 3 and len(first.finish_reasons) == 3
    assert len(second.texts) == 2 and second.calls == 2
    ns = [body.get("n") for body in server.chat_requests()]
    assert ns == [3, None, None, None, None]  # asked for n once; afterwards plain calls only
