"""The runtime: executes every step kind, enforces budgets, traces each step, never raises."""

import asyncio
import time

import pytest

from egur_core.runtime.engine import Runtime
from egur_core.strategy.model import Strategy
from egur_core.strategy.tokens import estimate_prompt_tokens


def make(*steps, budget=None) -> Strategy:
    data = {"name": "t", "steps": list(steps)}
    if budget:
        data["budget"] = budget
    return Strategy.model_validate(data)


def execute(runtime, strategy, problem="What is 6*7?"):
    return asyncio.run(runtime.execute(strategy, problem))


LLM = {"id": "think", "op": "llm", "prompt": "Solve: {problem}", "out": "r"}
ANSWER = {"id": "final", "op": "answer", "from": "r"}


@pytest.fixture
def runtime(chat, tools):
    return Runtime(chat, tools, concurrency=8)


def test_llm_then_answer_returns_the_reply_and_counts_usage(runtime, chat):
    result = execute(runtime, make(LLM, ANSWER))
    assert result.ok and result.answer == "The answer is: 42"
    assert (result.calls, result.tokens_in, result.tokens_out) == (1, 20, 10)
    assert chat.calls[0]["messages"][-1]["content"] == "Solve: What is 6*7?"
    assert chat.calls[0]["role"] == "executor"


def test_each_step_leaves_a_trace_with_its_rendered_input(runtime):
    result = execute(runtime, make(LLM, ANSWER))
    assert [t.step_id for t in result.trace] == ["think", "final"]
    assert result.trace[0].input == "Solve: What is 6*7?" and result.trace[0].cost_usd == pytest.approx(0.001)


def test_vote_takes_the_majority_of_extracted_answers(runtime, chat):
    chat.reply = lambda m, kw: ["x\nThe answer is: 5", "The answer is: 7", "so The answer is: 7."]
    sample = {**LLM, "n": 3, "temperature": 0.7, "out": "samples"}
    vote = {"id": "v", "op": "vote", "from": "samples", "out": "r"}
    result = execute(runtime, make(sample, vote, ANSWER))
    assert result.answer == "7" and result.calls == 3


def test_select_picks_the_candidate_the_judge_names(runtime, chat):
    chat.reply = lambda m, kw: ["first", "second"] if kw["n"] == 2 else "Best: 2"
    sample = {**LLM, "n": 2, "temperature": 0.7, "out": "samples"}
    select = {"id": "s", "op": "select", "from": "samples", "out": "r"}
    assert execute(runtime, make(sample, select, ANSWER)).answer == "second"


def test_tool_step_runs_the_tool_on_the_rendered_input(runtime, tools):
    step = {"id": "calc", "op": "tool", "tool": "calculator", "input": "6*7 for {problem}", "out": "r"}
    result = execute(runtime, make(step, ANSWER))
    assert result.answer == "12" and tools["calculator"].inputs == ["6*7 for What is 6*7?"]


def test_a_failing_tool_is_marked_but_later_steps_still_run(runtime, tools):
    tools["python"].ok = False
    run = {"id": "run", "op": "tool", "tool": "python", "input": "{problem}", "out": "r"}
    result = execute(runtime, make(run, ANSWER))
    assert result.ok and result.answer.startswith("ERROR: boom")
    assert result.trace[0].ok is False


def test_loop_retries_until_the_verifier_passes(runtime, chat):
    verdicts = iter(["FAIL: hard-coded", "FAIL: crashed", "PASS: fine"])
    chat.reply = lambda m, kw: next(verdicts) if "reviewer" in m[0]["content"] else "print(42)"
    loop = {"id": "attempt", "op": "loop", "max_iters": 5, "until": "ok", "body": [
        {"id": "code", "op": "llm", "prompt": "{problem} {critique?}", "out": "code"},
        {"id": "run", "op": "tool", "tool": "python", "input": "{code}", "out": "r"},
        {"id": "critic", "op": "verify", "prompt": "{r}", "flag": "ok", "feedback": "critique"}]}
    result = execute(runtime, make(loop, ANSWER))
    assert result.ok and [t.iteration for t in result.trace if t.step_id == "run"] == [1, 2, 3]
    assert "crashed" in chat.calls[4]["messages"][-1]["content"]


def test_loop_stops_at_its_iteration_limit(runtime, chat):
    chat.reply = lambda m, kw: "FAIL" if "reviewer" in m[0]["content"] else "draft"
    loop = {"id": "l", "op": "loop", "max_iters": 2, "until": "ok", "body": [
        LLM, {"id": "critic", "op": "verify", "prompt": "{r}", "flag": "ok"}]}
    result = execute(runtime, make(loop, ANSWER))
    assert result.ok and sum(t.step_id == "think" for t in result.trace) == 2


def test_branch_jumps_forward_on_the_flag(runtime, chat):
    chat.reply = lambda m, kw: "PASS" if "reviewer" in m[0]["content"] else "draft answer"
    steps = [LLM, {"id": "check", "op": "verify", "prompt": "{r}", "flag": "ok"},
             {"id": "route", "op": "branch", "if": "ok", "then": "good", "else": "bad"},
             {"id": "bad", "op": "answer", "from": "problem"}, {"id": "good", "op": "answer", "from": "r"}]
    result = execute(runtime, make(*steps))
    assert result.answer == "draft answer" and "bad" not in [t.step_id for t in result.trace]


def test_call_budget_ends_the_execution_with_its_reason(runtime):
    sample = {**LLM, "n": 5, "temperature": 0.7}
    result = execute(runtime, make(sample, ANSWER, budget={"max_calls": 3}))
    assert not result.ok and result.failed_step == "think" and "calls" in result.error
    assert result.trace[0].ok is False


def test_token_budget_ends_the_execution(runtime, chat):
    chat.tokens_out = 500
    steps = [LLM, {**LLM, "id": "again", "prompt": "{r}", "out": "r2"}, {"id": "final", "op": "answer", "from": "r2"}]
    result = execute(runtime, make(*steps, budget={"max_tokens": 600}))
    assert not result.ok and "tokens" in result.error and result.failed_step == "again"


def test_llm_max_tokens_is_clamped_so_prompt_and_answer_fit_the_remaining_budget(runtime, chat):
    execute(runtime, make({**LLM, "max_tokens": 5000}, ANSWER, budget={"max_tokens": 300}))
    call = chat.calls[0]
    assert call["max_tokens"] + estimate_prompt_tokens(call["messages"]) == 300


def test_wall_time_budget_ends_a_slow_execution(runtime, chat):
    chat.latency_s = 10.0
    started = time.perf_counter()
    result = execute(runtime, make(LLM, ANSWER, budget={"max_seconds": 0.2}))
    assert time.perf_counter() - started < 5.0  # the call was cancelled, not waited for
    assert not result.ok and "wall time" in result.error and result.trace[0].ok is False


def test_a_model_error_fails_the_execution_not_the_caller(runtime, chat):
    chat.reply = lambda m, kw: RuntimeError("endpoint said 500")
    result = execute(runtime, make(LLM, ANSWER))
    assert not result.ok and "endpoint said 500" in result.error and result.failed_step == "think"


def test_unknown_tool_at_run_time_fails_cleanly(runtime):
    step = {"id": "t", "op": "tool", "tool": "missing", "input": "{problem}", "out": "r"}
    result = execute(runtime, make(step, ANSWER))
    assert not result.ok and "missing" in result.error


def test_an_answer_on_a_skipped_path_fails_with_a_clear_reason(runtime, chat):
    chat.reply = lambda m, kw: "FAIL"
    steps = [{"id": "check", "op": "verify", "prompt": "{problem}", "flag": "ok"},
             {"id": "route", "op": "branch", "if": "ok", "then": "work", "else": "final"},
             {"id": "work", "op": "llm", "prompt": "{problem}", "out": "r"}, ANSWER]
    result = execute(runtime, make(*steps))
    assert not result.ok and result.failed_step == "final" and "no value in 'r'" in result.error


def test_concurrent_executions_share_the_concurrency_cap(chat, tools):
    chat.latency_s = 0.05
    runtime = Runtime(chat, tools, concurrency=2)

    async def many():
        return await asyncio.gather(*(runtime.execute(make(LLM, ANSWER), "p") for _ in range(6)))

    results = asyncio.run(many())
    assert all(r.ok for r in results) and chat.max_in_flight == 2


def test_candidate_executions_overlap_in_time(chat, tools):
    chat.latency_s = 0.2
    runtime = Runtime(chat, tools, concurrency=8)

    async def five():
        return await asyncio.gather(*(runtime.execute(make(LLM, ANSWER), "p") for _ in range(5)))

    asyncio.run(five())
    assert chat.max_in_flight == 5


def test_a_dollar_budget_stops_the_execution_before_the_call_that_could_overrun_it(runtime, chat):
    chat.cost_usd, chat.worst_usd = 0.001, 0.004  # each call costs $0.001 but could cost $0.004
    steps = [LLM, {**LLM, "id": "second", "out": "r2"}, {**LLM, "id": "third", "out": "r3"}, ANSWER]
    result = execute(runtime, make(*steps, budget={"max_cost_usd": 0.0055}))
    assert len(chat.calls) == 2 and result.cost_usd == pytest.approx(0.002)
    assert not result.ok and result.failed_step == "third" and "may cost up to $0.004" in result.error


def test_without_a_dollar_budget_the_worst_case_is_not_asked(runtime, chat):
    chat.worst_usd = 1_000.0
    assert execute(runtime, make(LLM, ANSWER)).ok


def test_a_dollar_budget_prices_every_sample(runtime, chat):
    chat.worst_usd = 0.001
    result = execute(runtime, make({**LLM, "n": 5, "temperature": 0.7}, ANSWER, budget={"max_cost_usd": 0.004}))
    assert not result.ok and chat.calls == [] and "$0.005" in result.error


def test_a_tool_steps_own_limits_reach_the_tool(runtime, tools):
    step = {"id": "t", "op": "tool", "tool": "python", "input": "print(1)", "out": "r", "timeout_s": 3,
            "memory_mb": 300}
    execute(runtime, make(step, ANSWER))
    assert tools["python"].limits == [{"timeout": 3, "memory_mb": 300}]


def test_a_tool_step_without_limits_gets_the_runtimes_default_time(runtime, tools):
    execute(runtime, make({"id": "t", "op": "tool", "tool": "python", "input": "x", "out": "r"}, ANSWER))
    assert tools["python"].limits == [{"timeout": runtime.tool_timeout_s, "memory_mb": None}]


def test_sampling_knobs_of_an_llm_step_reach_the_client(runtime, chat):
    execute(runtime, make({**LLM, "seed": 11, "stop": ["END"], "frequency_penalty": -0.5}, ANSWER))
    sampling = chat.calls[0]["sampling"]
    assert (sampling.seed, sampling.stop, sampling.frequency_penalty, sampling.presence_penalty) == (
        11, ["END"], -0.5, None)
