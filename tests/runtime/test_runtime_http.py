"""Every new construct executed over real HTTP: the openai SDK against the fake server, real tools.

Native tool calls on an endpoint that honours them, the text protocol on each endpoint that refuses
them, a heterogeneous vote, select and verify with their own settings, extract and gather, and a
dollar budget that stops an execution before the call that could overrun it.
"""

from __future__ import annotations

import asyncio

import pytest

from egur_core.llm import LLMClient
from egur_core.runtime.engine import Runtime
from egur_core.runtime.trace import ExecutionResult
from egur_core.strategy.model import Strategy
from egur_core.tools.registry import default_registry
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.fakes.tool_families import REFUSING_SERVERS

PROBLEM = "What is 6*7?"


def execute(server: FakeOpenAIServer, data: dict) -> ExecutionResult:
    async def go():
        client = LLMClient(settings_for(server, max_retries=0))
        try:
            return await Runtime(client, default_registry()).execute(Strategy.model_validate(data), PROBLEM)
        finally:
            await client.aclose()

    return asyncio.run(go())


def steps(*items: dict, budget: dict | None = None) -> dict:
    return {"name": "t", "steps": list(items), **({"budget": budget} if budget else {})}


def test_the_shipped_agent_calls_tools_natively_and_traces_each_call(example_strategies):
    with FakeOpenAIServer("strict") as server:
        server.push_tool_calls(("calculator", "6*7"))
        server.push_reply("The answer is: 42")
        result = execute(server, example_strategies["native_tool_agent.json"])
        first, second = server.chat_requests()
    assert result.ok and result.answer == "The answer is: 42"
    assert [t["function"]["name"] for t in first["tools"]] == ["sat_solver", "python", "calculator"]
    call_id = second["messages"][-2]["tool_calls"][0]["id"]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": call_id, "content": "42"}
    [call] = result.trace[0].tool_calls
    assert (call.tool, call.input, call.output, call.ok) == ("calculator", "6*7", "42", True)
    assert result.trace[0].detail["tool_mode"] == "native"


@pytest.mark.parametrize("family", REFUSING_SERVERS)
def test_an_endpoint_that_refuses_tools_runs_the_agent_on_the_text_protocol(family, example_strategies):
    with FakeOpenAIServer({family, "no_tools"}) as server:
        server.push_reply("ACTION: calculator\nINPUT:\n6*7")
        server.push_reply("FINAL: 42")
        result = execute(server, example_strategies["native_tool_agent.json"])
        refused, action, final = server.chat_requests()
    assert result.ok and result.answer == "42"
    assert "tools" in refused and "tools" not in action and "tools" not in final
    assert final["messages"][-1] == {"role": "user", "content": "OBSERVATION:\n42"}
    assert result.trace[0].detail["tool_mode"] == "text"
    assert [(c.tool, c.output) for c in result.trace[0].tool_calls] == [("calculator", "42")]


def test_the_shipped_heterogeneous_vote_combines_program_calculator_and_reasoning(example_strategies):
    with FakeOpenAIServer("strict") as server:
        server.push_reply("```python\ndef solve():\n    return 6 * 7\n\nprint('The answer is:', solve())\n```")
        server.push_reply("6 * 7")
        server.push_reply("6 times 7 is 41.\nThe answer is: 41")
        result = execute(server, example_strategies["heterogeneous_vote.json"])
        write, formalize, think = server.chat_requests()
    assert result.ok and result.answer == "42"
    vote = next(t for t in result.trace if t.step_id == "vote")
    assert vote.detail["votes"] == "42×2, 41×1"
    assert formalize["stop"] == ["\n\n"] and (think["seed"], think["temperature"]) == (7, 0.3)
    assert "seed" not in write


def test_select_and_verify_send_their_own_model_temperature_and_prompts():
    draft = {"id": "draft", "op": "llm", "prompt": "{problem}", "n": 2, "temperature": 0.7, "out": "drafts"}
    pick = {"id": "pick", "op": "select", "from": "drafts", "model": "large", "temperature": 0.2,
            "system": "You judge answers.", "prompt": "Which is right for {problem}?", "out": "best"}
    check = {"id": "check", "op": "verify", "model": "large", "system": "You check arithmetic.", "temperature": 0.4,
             "prompt": "Check: {best}", "flag": "ok"}
    with FakeOpenAIServer("strict") as server:
        for reply in ("The answer is: 41", "The answer is: 42", "Best: 2", "PASS: right"):
            server.push_reply(reply)
        result = execute(server, steps(draft, pick, check, {"id": "final", "op": "answer", "from": "best"}))
        _, judge, critic = server.chat_requests()
    assert result.ok and result.answer == "The answer is: 42"
    assert (judge["model"], judge["temperature"], judge["messages"][0]["content"]) == (
        "fake-pro", 0.2, "You judge answers.")
    assert (critic["model"], critic["temperature"]) == ("fake-pro", 0.4)
    assert critic["messages"][0]["content"] == "You check arithmetic. Start your reply with PASS or FAIL."


def test_extract_and_gather_over_http():
    facts = {"id": "facts", "op": "llm", "prompt": "{problem}", "out": "facts"}
    extract = {"id": "pick", "op": "extract", "from": "facts", "path": "result.value", "out": "value"}
    gather = {"id": "both", "op": "gather", "from": ["value", "problem"], "out": "both"}
    echo = {"id": "echo", "op": "llm", "prompt": "{both}", "out": "echo"}
    with FakeOpenAIServer("strict") as server:
        server.push_reply('Sure: {"result": {"value": 42}}')
        server.push_reply("done")
        result = execute(server, steps(facts, extract, gather, echo, {"id": "final", "op": "answer", "from": "echo"}))
        echoed = server.chat_requests()[-1]["messages"][-1]["content"]
    assert result.ok and echoed == f"[1] 42\n\n[2] {PROBLEM}"


def test_a_dollar_budget_stops_the_execution_before_the_call_that_could_overrun_it():
    # small costs $0.60 per 1M output tokens: a reply of ~510 tokens costs ~$0.0003, and a call with
    # max_tokens=1000 could cost ~$0.0006. $0.001 allows two calls and refuses the third before it is made.
    call = {"op": "llm", "prompt": "{problem}", "max_tokens": 1000}
    program = [{**call, "id": "first", "out": "a"}, {**call, "id": "second", "out": "b"},
               {**call, "id": "third", "out": "c"}, {"id": "final", "op": "answer", "from": "c"}]
    with FakeOpenAIServer("strict") as server:
        for _ in range(3):
            server.push_reply("x" * 2000)
        result = execute(server, steps(*program, budget={"max_cost_usd": 0.001}))
        sent = len(server.chat_requests())
    assert sent == 2 and not result.ok and result.failed_step == "third"
    assert "may cost up to $0.0006" in result.error and result.cost_usd < 0.001


def test_an_executions_cached_prompt_tokens_are_counted_apart_from_the_rest():
    long_system = "Stable instructions for every call. " * 200
    with FakeOpenAIServer("prefix_cache") as server:
        result = execute(server, steps(
            {"id": "a", "op": "llm", "system": long_system, "prompt": "{problem}", "out": "a"},
            {"id": "b", "op": "llm", "system": long_system, "prompt": "Check: {a}", "out": "b"},
            {"id": "final", "op": "answer", "from": "b"}))
    assert result.ok and 0 < result.tokens_cached < result.tokens_in
