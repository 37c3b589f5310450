"""The agent step: native tool calls turn by turn, each one traced, within the step's limits."""

import asyncio

import pytest

from egur_core.runtime.engine import Runtime
from egur_core.strategy.model import Strategy
from tests.runtime.conftest import calls

ANSWER = {"id": "final", "op": "answer", "from": "r"}


def agent(**extra):
    return {"id": "a", "op": "agent", "prompt": "{problem}", "tools": ["calculator"], "max_steps": 4, "out": "r",
            **extra}


def execute(runtime, *steps, budget=None):
    data = {"name": "t", "steps": list(steps), **({"budget": budget} if budget else {})}
    return asyncio.run(runtime.execute(Strategy.model_validate(data), "What is 6*7?"))


@pytest.fixture
def runtime(chat, tools):
    return Runtime(chat, tools, concurrency=8)


def scripted(chat, *replies):
    queue = iter(replies)
    chat.reply = lambda m, kw: next(queue)


def test_the_agent_offers_its_tools_as_native_definitions(runtime, chat):
    execute(runtime, agent(tools=["calculator", "python"]), ANSWER)
    names = [t["function"]["name"] for t in chat.calls[0]["tools"]]
    assert names == ["calculator", "python"]
    assert chat.calls[0]["tools"][0]["function"]["parameters"]["required"] == ["input"]


def test_tool_calls_run_and_their_results_go_back_as_tool_messages(runtime, chat, tools):
    scripted(chat, calls(("calculator", "6*7")), "The answer is: 12")
    result = execute(runtime, agent(), ANSWER)
    assert result.answer == "The answer is: 12" and tools["calculator"].inputs == ["6*7"]
    assistant, observation = chat.calls[1]["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["name"] == "calculator"
    assert observation == {"role": "tool", "tool_call_id": assistant["tool_calls"][0]["id"], "content": "12"}


def test_the_trace_records_each_tool_call_and_its_result(runtime, chat, tools):
    tools["python"].output = "The answer is: 42"
    scripted(chat, calls(("calculator", "6*7"), ("python", "print(42)")), "42")
    result = execute(runtime, agent(tools=["calculator", "python"]), ANSWER)
    step = result.trace[0]
    assert [(c.turn, c.tool, c.input, c.output) for c in step.tool_calls] == [
        (1, "calculator", "6*7", "12"), (1, "python", "print(42)", "The answer is: 42")]
    assert step.detail["tool_calls"] == 2 and step.detail["tool_mode"] == "native"


def test_a_call_to_a_tool_the_step_does_not_offer_is_answered_with_an_error(runtime, chat, tools):
    scripted(chat, calls(("python", "print(1)")), "done")
    result = execute(runtime, agent(), ANSWER)
    assert tools["python"].inputs == [] and result.answer == "done"
    assert "no tool named 'python'" in chat.calls[1]["messages"][-1]["content"]
    assert result.trace[0].tool_calls[0].ok is False


def test_the_last_turn_asks_for_the_final_answer_and_the_step_stops_there(runtime, chat):
    chat.reply = lambda m, kw: calls(("calculator", "1+1"))
    result = execute(runtime, agent(max_steps=3), ANSWER)
    assert result.ok and len(chat.calls) == 3
    assert "give your final answer now" in chat.calls[2]["messages"][-1]["content"]
    assert result.trace[0].detail["step_limit_reached"] is True


def test_a_final_marker_in_the_reply_is_dropped(runtime, chat):
    scripted(chat, "FINAL: 12")
    assert execute(runtime, agent(), ANSWER).answer == "12"


def test_the_steps_tool_limits_reach_every_call(runtime, chat, tools):
    scripted(chat, calls(("calculator", "1"), ("calculator", "2")), "3")
    execute(runtime, agent(timeout_s=7.5, memory_mb=256), ANSWER)
    assert tools["calculator"].limits == [{"timeout": 7.5, "memory_mb": 256}] * 2


def test_each_tool_call_counts_against_the_call_budget(runtime, chat):
    chat.reply = lambda m, kw: calls(("calculator", "1"), ("calculator", "2"))
    result = execute(runtime, agent(max_steps=5), ANSWER, budget={"max_calls": 4})
    assert not result.ok and "calls" in result.error and result.calls == 4


def test_an_agent_without_tools_is_one_plain_call(runtime, chat):
    result = execute(runtime, agent(tools=[]), ANSWER)
    assert result.ok and chat.calls[0]["tools"] is None and len(chat.calls) == 1


def test_sampling_knobs_of_the_step_reach_the_model(runtime, chat):
    execute(runtime, agent(seed=7, stop=["###"], reasoning_effort="low", presence_penalty=0.5), ANSWER)
    sampling = chat.calls[0]["sampling"]
    assert (sampling.seed, sampling.stop, sampling.reasoning_effort, sampling.presence_penalty) == (
        7, ["###"], "low", 0.5)

