"""Strategy validation: every rule reports its JSON path and a message a person can act on."""

import json

import pytest

from egur_core.strategy.model import Strategy
from egur_core.strategy.roles import ROLES, TIERS
from egur_core.strategy.validation import StrategyInvalid, parse_strategy, validate_strategy

TOOLS = {"python", "sat_solver", "calculator"}
MODELS = {"executor", "small", "large"}


def strategy(*steps, **extra):
    return {"name": "t", "steps": list(steps), **extra}


LLM = {"id": "think", "op": "llm", "prompt": "{problem}", "out": "r"}
ANSWER = {"id": "final", "op": "answer", "from": "r"}


def issues_of(data):
    _, issues = validate_strategy(data, TOOLS, MODELS)
    return {(i.path, i.message) for i in issues}


def messages_at(data, path):
    return [m for p, m in issues_of(data) if p == path]


def test_a_minimal_strategy_is_valid():
    parsed, issues = validate_strategy(strategy(LLM, ANSWER), TOOLS, MODELS)
    assert issues == [] and isinstance(parsed, Strategy)


def test_unknown_branch_target_is_reported_at_the_branch():
    branch = {"id": "b", "op": "branch", "if": "r", "then": "nowhere"}
    [msg] = messages_at(strategy(LLM, branch, ANSWER), "$.steps[1].then")
    assert "unknown step id 'nowhere'" in msg


def test_backward_branch_is_refused_in_favour_of_a_loop():
    branch = {"id": "b", "op": "branch", "if": "r", "then": "think"}
    [msg] = messages_at(strategy(LLM, branch, ANSWER), "$.steps[1].then")
    assert "jumps backwards" in msg and "loop" in msg


def test_variable_read_before_written_names_the_variable():
    early = {"id": "think", "op": "llm", "prompt": "{problem} {hint}", "out": "r"}
    [msg] = messages_at(strategy(early, ANSWER), "$.steps[0].prompt")
    assert "'{hint}'" in msg and "before any step writes it" in msg


def test_optional_reference_may_be_unset():
    early = {"id": "think", "op": "llm", "prompt": "{problem} {hint?}", "out": "r"}
    assert issues_of(strategy(early, ANSWER)) == set()


def test_answer_from_unwritten_variable_is_reported():
    [msg] = messages_at(strategy(LLM, {"id": "final", "op": "answer", "from": "nope"}), "$.steps[1].from")
    assert "'nope'" in msg


def test_loop_without_iteration_limit_is_reported():
    loop = {"id": "again", "op": "loop", "body": [LLM]}
    [msg] = messages_at(strategy(loop, ANSWER), "$.steps[0].max_iters")
    assert "no iteration limit" in msg


def test_loop_until_flag_must_be_set_in_the_body():
    loop = {"id": "again", "op": "loop", "max_iters": 2, "until": "done", "body": [LLM]}
    [msg] = messages_at(strategy(loop, ANSWER), "$.steps[0].until")
    assert "'done' is never set" in msg


@pytest.mark.parametrize("value", [-0.1, 2.5])
def test_temperature_out_of_range_is_reported(value):
    [msg] = messages_at(strategy({**LLM, "temperature": value}, ANSWER), "$.steps[0].temperature")
    assert "out of range" in msg


def test_unknown_tool_lists_the_known_ones():
    tool = {"id": "t", "op": "tool", "tool": "web_search", "input": "{problem}", "out": "r"}
    [msg] = messages_at(strategy(tool, ANSWER), "$.steps[0].tool")
    assert "unknown tool 'web_search'" in msg and "sat_solver" in msg


def test_unknown_tool_in_an_agent_is_reported():
    agent = {"id": "a", "op": "agent", "prompt": "{problem}", "tools": ["python", "browser"], "out": "r"}
    [msg] = messages_at(strategy(agent, ANSWER), "$.steps[0].tools[1]")
    assert "unknown tool 'browser'" in msg


def test_unknown_model_alias_is_reported():
    [msg] = messages_at(strategy({**LLM, "model": "gpt-9"}, ANSWER), "$.steps[0].model")
    assert "unknown model alias 'gpt-9'" in msg


def test_unknown_step_kind_and_missing_op_are_reported():
    found = issues_of(strategy({"id": "x", "op": "teleport"}, {"id": "y"}, ANSWER))
    paths = {p for p, _ in found}
    assert {"$.steps[0]", "$.steps[1]"} <= paths


def test_duplicate_step_ids_are_reported():
    [msg] = messages_at(strategy(LLM, {**LLM, "out": "r2"}, ANSWER), "$.steps[1].id")
    assert "duplicate" in msg


def test_missing_answer_step_is_reported():
    assert any("no 'answer' step" in m for _, m in issues_of(strategy(LLM)))


def test_every_problem_is_reported_not_just_the_first():
    bad = strategy({**LLM, "model": "nope", "prompt": "{ghost}"}, {"id": "t", "op": "tool", "tool": "x",
                   "input": "{r}", "out": "o"}, {"id": "final", "op": "answer", "from": "o"})
    assert len(issues_of(bad)) == 3


def test_invalid_json_text_is_reported_cleanly():
    _, issues = validate_strategy('{"name": "x", "steps": [')
    assert issues[0].path == "$" and "not valid JSON" in issues[0].message


def test_parse_strategy_raises_with_all_issues():
    with pytest.raises(StrategyInvalid) as err:
        parse_strategy(strategy({**LLM, "temperature": 9}, ANSWER))
    assert "temperature" in str(err.value)


def test_hash_ignores_key_order_and_explicit_defaults():
    a = Strategy.model_validate(strategy(LLM, ANSWER))
    b = Strategy.model_validate(json.loads(json.dumps(strategy({**LLM, "temperature": 0.0, "n": 1}, ANSWER))[::1]))
    reordered = Strategy.model_validate({"steps": [dict(reversed(list(LLM.items()))), ANSWER], "name": "t"})
    assert a.hash == b.hash == reordered.hash


def test_hash_changes_with_content():
    a = Strategy.model_validate(strategy(LLM, ANSWER))
    b = Strategy.model_validate(strategy({**LLM, "temperature": 0.5}, ANSWER))
    assert a.hash != b.hash


def test_canonical_json_round_trips():
    a = Strategy.model_validate(strategy(LLM, ANSWER))
    assert Strategy.model_validate_json(a.canonical_json()).hash == a.hash


def test_shipped_example_strategies_are_valid_on_any_endpoint(example_strategies):
    portable = set(ROLES) | set(TIERS)  # what every settings file defines, whatever its models are called
    for path, data in example_strategies.items():
        _, issues = validate_strategy(data, TOOLS, portable)
        assert issues == [], (path, issues)


def test_a_shape_error_does_not_hide_program_problems_elsewhere():
    bad_temperature = {**LLM, "temperature": 5, "prompt": "{question}"}
    found = issues_of(strategy(bad_temperature, {"id": "t", "op": "tool", "tool": "nope", "input": "{r}", "out": "o"}))
    paths = {p for p, _ in found}
    assert {"$.steps[0].temperature", "$.steps[0].prompt", "$.steps[1].tool", "$.steps"} <= paths


def test_variables_of_an_unparsable_step_do_not_raise_false_alarms():
    bad = {**LLM, "temperature": 5}
    assert {p for p, _ in issues_of(strategy(bad, ANSWER))} == {"$.steps[0].temperature"}


def test_a_step_that_fails_to_parse_may_read_what_earlier_steps_wrote():
    broken = {"id": "t", "op": "tool", "tool": "python", "input": "{r}", "out": "o", "timeout_s": -1}
    assert {p for p, _ in issues_of(strategy(LLM, broken, ANSWER))} == {"$.steps[1].timeout_s"}
