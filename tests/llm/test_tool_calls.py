"""Native tool calling over real HTTP: offered as ``tools``, refused the way each server refuses, remembered,
and replaced by the text protocol; the reply's tool calls look the same either way."""

from __future__ import annotations

import asyncio
import json

import pytest

from egur_core.llm import LLMClient, LLMError
from egur_core.llm.cache import ResponseCache
from egur_core.llm.capabilities import CapabilityMemory
from egur_core.memory.database import MemoryFile
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.tool_protocol import arguments_for, tool_definition
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.fakes.tool_families import REFUSING_SERVERS
from tests.llm import run_with_client

TOOLS = [tool_definition("calculator", "exact arithmetic", "one expression")]
ASK = [{"role": "system", "content": "Solve it."}, {"role": "user", "content": "What is 6*7?"}]


def turn(client: LLMClient, messages=ASK):
    return client.chat(messages, alias="small", role="executor", sampling=Sampling(max_tokens=64), tools=TOOLS)


def test_an_endpoint_that_honours_tools_gets_them_and_its_tool_calls_are_read():
    with FakeOpenAIServer("strict") as server:
        server.push_tool_calls(("calculator", "6*7"))
        result = run_with_client(server, turn)
        [body] = server.chat_requests()
    assert body["tools"] == TOOLS and "tool_choice" not in body
    [call] = result.tool_calls
    assert (call.name, json.loads(call.arguments), result.tool_mode) == ("calculator", {"input": "6*7"}, "native")
    assert call.id.startswith("call_")


@pytest.mark.parametrize("family", REFUSING_SERVERS)
def test_an_endpoint_that_refuses_tools_gets_the_text_protocol_in_the_same_turn(family):
    with FakeOpenAIServer({family, "no_tools"}) as server:
        server.push_reply("ACTION: calculator\nINPUT:\n6*7")
        result = run_with_client(server, turn)
        refused, retried = server.chat_requests()
    assert refused["tools"] == TOOLS and "tools" not in retried
    assert "ACTION: <tool name>" in retried["messages"][0]["content"]
    assert retried["messages"][0]["content"].startswith("Solve it.")
    [call] = result.tool_calls
    assert (call.name, call.arguments, result.tool_mode) == ("calculator", arguments_for("6*7"), "text")


@pytest.mark.parametrize("family", REFUSING_SERVERS)
def test_a_refusal_is_remembered_for_that_endpoint_and_model(family):
    async def two_turns(client):
        await turn(client)
        return await turn(client)

    with FakeOpenAIServer({family, "no_tools"}) as server:
        result = run_with_client(server, two_turns)
        with_tools = [b for b in server.chat_requests() if "tools" in b]
    assert len(with_tools) == 1 and result.tool_mode == "text"


def test_llama_cpp_refusing_with_a_500_steps_down_without_retrying():
    with FakeOpenAIServer({"llama_server", "no_tools"}) as server:
        run_with_client(server, turn, max_retries=3)
        assert len(server.chat_requests()) == 2  # the refused request once, then the text protocol


def test_a_first_tools_request_that_fails_for_another_reason_is_retried_natively():
    with FakeOpenAIServer("server_error", fail_times=1) as server:
        server.push_tool_calls(("calculator", "1+1"))
        result = run_with_client(server, turn, max_retries=1)
        bodies = server.chat_requests()
    assert all("tools" in b for b in bodies) and result.tool_mode == "native"


def test_a_native_conversation_is_rewritten_as_actions_and_observations():
    history = [*ASK, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "calculator", "arguments": arguments_for("6*7")}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    with FakeOpenAIServer({"ollama", "no_tools"}) as server:
        server.push_reply("FINAL: 42")
        result = run_with_client(server, lambda c: turn(c, history))
        sent = server.chat_requests()[-1]["messages"]
    assert sent[2] == {"role": "assistant", "content": "ACTION: calculator\nINPUT:\n6*7"}
    assert sent[3] == {"role": "user", "content": "OBSERVATION:\n42"}
    assert result.tool_calls == [] and result.texts == ["FINAL: 42"]


def test_the_fake_refuses_tool_results_that_answer_no_call():
    orphan = [*ASK, {"role": "tool", "tool_call_id": "call_9", "content": "42"}]
    with FakeOpenAIServer("strict") as server, pytest.raises(LLMError, match="preceeding message"):
        run_with_client(server, lambda c: turn(c, orphan))


def test_replayed_tool_calls_come_back_from_the_response_cache(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")
    with FakeOpenAIServer("strict") as server:
        server.push_tool_calls(("calculator", "6*7"))

        async def twice(client):
            client.cache = ResponseCache(memory, "t")
            first = await turn(client)
            client.cache.flush()
            client.cache = ResponseCache(memory, "t")
            return first, await turn(client)

        first, replayed = run_with_client(server, twice)
        assert len(server.chat_requests()) == 1
    assert replayed.tool_calls == first.tool_calls and replayed.tool_mode == "native"


def test_a_refusal_is_remembered_in_the_memory_file_for_the_next_client(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")

    async def one_turn(server):
        client = LLMClient(settings_for(server), capabilities=CapabilityMemory(memory))
        try:
            return await turn(client)
        finally:
            await client.aclose()

    with FakeOpenAIServer({"vllm", "no_tools"}) as server:
        asyncio.run(one_turn(server))
        asyncio.run(one_turn(server))  # a new process would start here too
        offered = ["tools" in b for b in server.chat_requests()]
    assert offered == [True, False, False]
