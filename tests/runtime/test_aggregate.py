"""Ensembles and JSON fields: vote, select and gather over several sources, extract, unambiguous answers."""

import asyncio

import pytest

from egur_core.runtime.engine import Runtime
from egur_core.strategy.model import Strategy

COT = {"id": "cot", "op": "llm", "prompt": "Think: {problem}", "out": "cot"}
CODE = {"id": "code", "op": "tool", "tool": "python", "input": "print(7)", "out": "code_out"}
SOLVER = {"id": "solver", "op": "tool", "tool": "calculator", "input": "{problem}", "out": "solver_out"}


def execute(runtime, *steps, problem="What is 6*7?"):
    return asyncio.run(runtime.execute(Strategy.model_validate({"name": "t", "steps": list(steps)}), problem))


def answer(var):
    return {"id": "final", "op": "answer", "from": var}


@pytest.fixture
def runtime(chat, tools):
    return Runtime(chat, tools, concurrency=8)


def test_a_vote_over_three_methods_takes_their_majority(runtime, chat, tools):
    chat.reply = lambda m, kw: "reasoning...\nThe answer is: 7"
    tools["calculator"].output = "The answer is: 12"
    vote = {"id": "vote", "op": "vote", "from": ["cot", "code_out", "solver_out"], "out": "r"}
    result = execute(runtime, COT, CODE, SOLVER, vote, answer("r"))
    assert result.answer == "7" and result.trace[3].detail["votes"] == "7×2, 12×1"


def test_a_vote_counts_every_sample_of_a_list_source(runtime, chat, tools):
    chat.reply = lambda m, kw: ["The answer is: 12", "The answer is: 12", "The answer is: 5"]
    samples = {**COT, "n": 3, "temperature": 0.7, "out": "samples"}
    vote = {"id": "vote", "op": "vote", "from": ["code_out", "samples"], "out": "r"}
    result = execute(runtime, samples, CODE, vote, answer("r"))
    assert result.answer == "12" and "12×2" in result.trace[2].detail["votes"]


def test_a_tied_vote_goes_to_the_earliest_source(runtime, chat, tools):
    chat.reply = lambda m, kw: "The answer is: 5"
    vote = {"id": "vote", "op": "vote", "from": ["code_out", "cot"], "out": "r"}
    assert execute(runtime, COT, CODE, vote, answer("r")).answer == "7"


def test_select_judges_candidates_from_several_sources_with_its_own_settings(runtime, chat, tools):
    chat.reply = lambda m, kw: "Best: 2" if "Candidate 1" in m[-1]["content"] else "a chain of thought"
    select = {"id": "pick", "op": "select", "from": ["cot", "code_out"], "model": "large", "temperature": 0.3,
              "system": "You judge {problem}", "prompt": "Which is right?", "out": "r"}
    result = execute(runtime, COT, CODE, select, answer("r"))
    judge = chat.calls[-1]
    assert result.answer == "The answer is: 7"
    assert judge["alias"] == "large" and judge["temperature"] == 0.3
    assert judge["messages"][0] == {"role": "system", "content": "You judge What is 6*7?"}
    assert judge["messages"][1]["content"].startswith("Which is right?\n\nCandidate 1:\na chain of thought")


def test_verify_uses_its_own_system_prompt_model_and_temperature(runtime, chat):
    chat.reply = lambda m, kw: "PASS" if kw["alias"] == "large" else "draft"
    check = {"id": "check", "op": "verify", "model": "large", "system": "You check arithmetic.", "temperature": 0.2,
             "prompt": "{cot}", "flag": "ok"}
    result = execute(runtime, COT, check, answer("cot"))
    critic = chat.calls[-1]
    assert result.ok and result.trace[1].detail["passed"] is True
    assert critic["messages"][0]["content"] == "You check arithmetic. Start your reply with PASS or FAIL."
    assert critic["temperature"] == 0.2


def test_gather_builds_one_flat_list(runtime, chat, tools):
    chat.reply = lambda m, kw: ["a", "b"]
    gather = {"id": "all", "op": "gather", "from": ["code_out", "samples"], "out": "everything"}
    summary = {"id": "sum", "op": "llm", "prompt": "{everything}", "out": "r"}
    execute(runtime, {**COT, "n": 2, "temperature": 0.5, "out": "samples"}, CODE, gather, summary, answer("r"))
    assert chat.calls[-1]["messages"][-1]["content"] == "[1] The answer is: 7\n\n[2] a\n\n[3] b"


@pytest.mark.parametrize(("reply", "path", "rendered"), [
    ('{"answer": 42}', "answer", "42"),
    ('Here you go:\n```json\n{"result": {"items": [{"name": "x"}]}}\n```', "result.items[0].name", "x"),
    ('I think {"ok": true, "why": "fine"} is it', "ok", "true"),
    ('[{"v": "first"}, {"v": "second"}]', "[1].v", "second"),
])
def test_extract_reads_a_field_of_the_json_a_model_wrote(runtime, chat, reply, path, rendered):
    chat.reply = lambda m, kw: reply
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": path, "out": "r"}
    probe = {"id": "probe", "op": "llm", "prompt": "{r}", "out": "p"}
    assert execute(runtime, COT, extract, probe, answer("p")).ok
    assert chat.calls[-1]["messages"][-1]["content"] == rendered


def test_an_extracted_boolean_is_a_flag_a_branch_can_follow(runtime, chat):
    chat.reply = lambda m, kw: '{"solved": false}'
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": "solved", "out": "solved"}
    branch = {"id": "route", "op": "branch", "if": "solved", "then": "done", "else": "fallback"}
    fallback, done = {"id": "fallback", "op": "answer", "from": "problem"}, {**answer("cot"), "id": "done"}
    assert execute(runtime, COT, extract, branch, fallback, done).answer == "What is 6*7?"


def test_an_extracted_array_is_a_list_a_vote_can_read(runtime, chat):
    chat.reply = lambda m, kw: '{"candidates": ["The answer is: 3", "The answer is: 4", "The answer is: 4"]}'
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": "candidates", "out": "xs"}
    vote = {"id": "vote", "op": "vote", "from": "xs", "out": "r"}
    assert execute(runtime, COT, extract, vote, answer("r")).answer == "4"


def test_a_missing_field_uses_the_default(runtime, chat):
    chat.reply = lambda m, kw: '{"other": 1}'
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": "answer", "default": "unknown", "out": "r"}
    result = execute(runtime, COT, extract, answer("r"))
    assert result.answer == "unknown" and result.trace[1].detail["default_used"] is True


def test_a_missing_field_without_a_default_fails_the_step_with_its_name(runtime, chat):
    chat.reply = lambda m, kw: "no json here"
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": "answer", "out": "r"}
    result = execute(runtime, COT, extract, answer("r"))
    assert not result.ok and result.failed_step == "pick" and "no 'answer'" in result.error


def test_an_answer_from_several_samples_fails_instead_of_taking_the_first(runtime, chat):
    chat.reply = lambda m, kw: ["one", "two"]
    result = execute(runtime, {**COT, "n": 2, "temperature": 0.7}, answer("cot"))
    assert not result.ok and result.failed_step == "final" and "holds 2 values" in result.error


def test_an_answer_from_a_one_item_list_is_that_item(runtime, chat):
    chat.reply = lambda m, kw: '{"xs": ["only"]}'
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": "xs", "out": "xs"}
    assert execute(runtime, COT, extract, answer("xs")).answer == "only"


def test_a_failed_tool_casts_no_vote(runtime, chat, tools):
    chat.reply = lambda m, kw: "The answer is: 5"
    tools["python"].ok = False
    vote = {"id": "vote", "op": "vote", "from": ["code_out", "cot"], "out": "r"}
    result = execute(runtime, COT, CODE, vote, answer("r"))
    assert result.answer == "5" and result.trace[2].detail["votes"] == "5×1"
