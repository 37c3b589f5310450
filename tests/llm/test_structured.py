"""Structured output: bad replies never raise, one retry carries the error, modes are negotiated."""

from __future__ import annotations

from pydantic import BaseModel

from egur_core.llm import LLMClient
from egur_core.llm.schema import strict_schema
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm import USER, Answer, run_with_client


def test_garbage_twice_gives_value_none_and_a_clear_error():
    with FakeOpenAIServer("strict") as server:
        server.push_reply("I am not sure what you mean.")
        server.push_reply("Still no JSON, sorry.")
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value is None and not res.ok
    assert "no valid Answer after 2 replies" in res.error and "no JSON" in res.error
    assert res.raw_text == "Still no JSON, sorry."
    assert res.result is not None and res.result.calls == 2 and res.result.cost_usd > 0


def test_retry_feeds_the_validation_error_back():
    with FakeOpenAIServer("strict") as server:
        server.push_reply('{"reasoning": "forgot the answer"}')
        server.push_reply('{"answer": "5"}')
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value is not None and res.value.answer == "5"
    retry = server.chat_requests()[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"reasoning": "forgot the answer"}'}
    assert "answer: Field required" in retry[-1]["content"]


def test_wrapped_object_is_unwrapped():
    with FakeOpenAIServer("strict") as server:
        server.push_reply('{"Answer": {"answer": "5"}}')
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"))
    assert res.value is not None and res.value.answer == "5"


class Loose(BaseModel):
    answer: str
    extras: dict[str, int] = {}


def test_free_form_dict_schema_is_sent_non_strict():
    schema, strict = strict_schema(Loose)
    assert strict is False
    with FakeOpenAIServer("strict") as server:
        server.push_reply('{"answer": "5", "extras": {"a": 1}}')
        res = run_with_client(server, lambda c: c.structured(USER, Loose, alias="large", role="guide"))
    assert res.value is not None and res.value.extras == {"a": 1}
    assert server.chat_requests()[0]["response_format"]["json_schema"]["strict"] is False


def test_configured_structured_mode_is_where_negotiation_starts():
    with FakeOpenAIServer("strict") as server:
        server.push_reply('{"answer": "5"}')
        run_with_client(server, lambda c: c.structured(USER, Answer, alias="large", role="guide"),
                        structured_mode="text")
    assert "response_format" not in server.chat_requests()[0]


def test_existing_system_message_is_extended_not_duplicated():
    messages = [{"role": "system", "content": "You are the Guide."}, *USER]
    with FakeOpenAIServer("json_object_only") as server:

        async def body(client: LLMClient):
            client.remember_mode(client.settings.resolve("large"), "json_object")
            return await client.structured(messages, Answer, alias="large", role="guide")

        run_with_client(server, body)
    sent = server.chat_requests()[0]["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[0]["content"].startswith("You are the Guide.") and "JSON Schema" in sent[0]["content"]
    assert messages[0]["content"] == "You are the Guide."  # the caller's list is not mutated


def test_strategy_schema_is_strict_compatible():
    from egur_core.strategy.model import Strategy
    from tests.fakes.openai_server import _strict_problem

    schema, strict = strict_schema(Strategy)
    assert strict is True and _strict_problem(schema) is None
