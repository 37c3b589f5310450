"""The constructs EGuR adapts, validated: each one good and bad, every problem at its JSON path."""

import pytest

from egur_core.strategy.model import AgentStep, Strategy, derive_paradigm
from egur_core.strategy.validation import validate_strategy

TOOLS = {"python", "sat_solver", "calculator"}
MODELS = {"executor", "small", "large", "cheap", "strong"}
COT = {"id": "cot", "op": "llm", "prompt": "{problem}", "out": "cot"}
CODE = {"id": "code", "op": "tool", "tool": "python", "input": "{cot}", "out": "code_out"}
AGENT = {"id": "agent", "op": "agent", "prompt": "{problem}", "tools": ["calculator"], "out": "agent_out"}


def strategy(*steps, **extra):
    return {"name": "t", "steps": list(steps), **extra}


def answer(var):
    return {"id": "final", "op": "answer", "from": var}


def issues_of(data):
    _, issues = validate_strategy(data, TOOLS, MODELS)
    return [(i.path, i.message) for i in issues]


def only_issue(data):
    [issue] = issues_of(data)
    return issue


# -- aggregation over several sources ------------------------------------------------------------------
def test_a_vote_over_several_methods_is_valid():
    vote = {"id": "vote", "op": "vote", "from": ["code_out", "cot", "agent_out"], "out": "r"}
    assert issues_of(strategy(COT, CODE, AGENT, vote, answer("r"))) == []


def test_a_vote_source_that_nothing_wrote_is_reported_at_its_index():
    vote = {"id": "vote", "op": "vote", "from": ["cot", "ghost"], "out": "r"}
    assert only_issue(strategy(COT, vote, answer("r"))) == (
        "$.steps[1].from[1]", "reads 'ghost' before any step writes it")


@pytest.mark.parametrize(("sources", "message"), [
    ([], "List should have at least 1 item after validation, not 0"),
    (5, "'from' must be a variable name or a list of variable names"),
    (["cot"] * 17, "List should have at most 16 items after validation, not 17"),
])
def test_a_malformed_source_list_gets_one_clear_message(sources, message):
    select = {"id": "pick", "op": "select", "from": sources, "out": "r"}
    assert only_issue(strategy(COT, select, answer("r"))) == ("$.steps[1].from", message)


def test_a_non_name_inside_a_source_list_is_reported_at_its_index():
    vote = {"id": "vote", "op": "vote", "from": ["cot", 3], "out": "r"}
    assert only_issue(strategy(COT, vote, answer("r"))) == ("$.steps[1].from[1]", "Input should be a valid string")


def test_gather_reads_only_written_variables():
    gather = {"id": "all", "op": "gather", "from": ["cot", "later"], "out": "xs"}
    vote = {"id": "vote", "op": "vote", "from": "xs", "out": "r"}
    assert only_issue(strategy(COT, gather, vote, answer("r"))) == (
        "$.steps[1].from[1]", "reads 'later' before any step writes it")


def test_gather_needs_a_list_of_sources():
    gather = {"id": "all", "op": "gather", "from": "cot", "out": "xs"}
    path, message = only_issue(strategy(COT, gather, answer("cot")))
    assert path == "$.steps[1].from" and "valid list" in message


# -- extract ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["answer", "result.value", "items[0].name", "[2]", "a-b.c_d[10]"])
def test_field_paths_that_extract_accepts(path):
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": path, "out": "r"}
    assert issues_of(strategy(COT, extract, answer("r"))) == []


@pytest.mark.parametrize("path", ["", "a..b", "items[x]", ".a", "a b", "$.a"])
def test_malformed_field_paths_are_reported(path):
    extract = {"id": "pick", "op": "extract", "from": "cot", "path": path, "out": "r"}
    where, message = only_issue(strategy(COT, extract, answer("r")))
    assert where == "$.steps[1].path" and "is not a field path" in message


def test_extract_from_an_unwritten_variable_is_reported():
    extract = {"id": "pick", "op": "extract", "from": "facts", "path": "a", "out": "r"}
    assert only_issue(strategy(extract, answer("r"))) == ("$.steps[0].from", "reads 'facts' before any step writes it")


# -- answers are one value ---------------------------------------------------------------------------
def test_an_answer_straight_from_several_samples_is_refused():
    samples = {**COT, "n": 5, "temperature": 0.7, "out": "samples"}
    path, message = only_issue(strategy(samples, answer("samples")))
    assert path == "$.steps[1].from" and "holds a list (from step 'cot')" in message and "'vote'" in message


def test_an_answer_from_a_gathered_list_is_refused():
    gather = {"id": "all", "op": "gather", "from": ["cot", "problem"], "out": "xs"}
    path, _ = only_issue(strategy(COT, gather, answer("xs")))
    assert path == "$.steps[2].from"


def test_an_answer_after_a_vote_over_the_samples_is_fine():
    samples = {**COT, "n": 5, "temperature": 0.7, "out": "samples"}
    vote = {"id": "vote", "op": "vote", "from": "samples", "out": "samples"}
    assert issues_of(strategy(samples, vote, answer("samples"))) == []


# -- dollar budget ------------------------------------------------------------------------------------
def test_a_dollar_budget_is_valid():
    parsed, issues = validate_strategy(strategy(COT, answer("cot"), budget={"max_cost_usd": 0.02}))
    assert issues == [] and parsed.budget.max_cost_usd == 0.02


@pytest.mark.parametrize("value", [0, -1, 1000])
def test_a_dollar_budget_out_of_range_is_reported(value):
    path, message = only_issue(strategy(COT, answer("cot"), budget={"max_cost_usd": value}))
    assert path == "$.budget.max_cost_usd" and "out of range" in message


# -- sampling knobs -----------------------------------------------------------------------------------
def test_every_sampling_knob_is_valid_on_llm_agent_select_and_verify():
    knobs = {"seed": 3, "stop": ["###"], "reasoning_effort": "high", "presence_penalty": 1, "frequency_penalty": -1}
    select = {"id": "pick", "op": "select", "from": "cot", "out": "best", "temperature": 0.5, "system": "Judge.",
              **knobs}
    verify = {"id": "check", "op": "verify", "prompt": "{best}", "flag": "ok", "temperature": 0.1, "model": "large",
              "system": "You check.", **knobs}
    assert issues_of(strategy({**COT, **knobs}, {**AGENT, **knobs}, select, verify, answer("best"))) == []


@pytest.mark.parametrize(("knob", "value", "field"), [
    ("seed", -1, "seed"), ("presence_penalty", 2.5, "presence_penalty"), ("frequency_penalty", -3, "frequency_penalty"),
])
def test_numeric_knobs_out_of_range_are_reported(knob, value, field):
    path, message = only_issue(strategy({**COT, knob: value}, answer("cot")))
    assert path == f"$.steps[0].{field}" and "out of range" in message


def test_an_unknown_reasoning_effort_is_reported():
    path, message = only_issue(strategy({**COT, "reasoning_effort": "extreme"}, answer("cot")))
    assert path == "$.steps[0].reasoning_effort" and "'low', 'medium' or 'high'" in message


def test_too_many_or_empty_stop_sequences_are_reported():
    assert only_issue(strategy({**COT, "stop": ["a", "b", "c", "d", "e"]}, answer("cot")))[0] == "$.steps[0].stop"
    assert only_issue(strategy({**COT, "stop": [""]}, answer("cot")))[0] == "$.steps[0].stop[0]"


def test_a_judge_temperature_out_of_range_is_reported():
    select = {"id": "pick", "op": "select", "from": "cot", "out": "best", "temperature": 3}
    path, message = only_issue(strategy(COT, select, answer("best")))
    assert path == "$.steps[1].temperature" and "out of range" in message


# -- per-step tool limits -----------------------------------------------------------------------------
def test_tool_limits_within_the_safe_maximums_are_valid():
    limits = {"timeout_s": 30, "memory_mb": 512}
    verify = {"id": "check", "op": "verify", "method": "tool", "tool": "python", "input": "{cot}", "flag": "ok",
              **limits}
    assert issues_of(strategy(COT, {**CODE, **limits}, {**AGENT, **limits}, verify, answer("cot"))) == []


@pytest.mark.parametrize(("field", "value"), [("timeout_s", 0), ("timeout_s", 121), ("memory_mb", 64),
                                              ("memory_mb", 4096)])
def test_tool_limits_past_the_safe_maximums_are_reported(field, value):
    path, message = only_issue(strategy(COT, {**CODE, field: value}, answer("cot")))
    assert path == f"$.steps[1].{field}" and "out of range" in message


def test_a_tool_timeout_longer_than_the_strategy_may_run_is_reported():
    path, message = only_issue(strategy(COT, {**CODE, "timeout_s": 90}, answer("cot"), budget={"max_seconds": 60}))
    assert path == "$.steps[1].timeout_s" and "budget.max_seconds" in message


@pytest.mark.parametrize("step", [
    {"id": "check", "op": "verify", "prompt": "{cot}", "flag": "ok", "memory_mb": 256},
    {**AGENT, "tools": [], "memory_mb": 256},
])
def test_tool_limits_on_a_step_that_calls_no_tool_are_reported(step):
    path, message = only_issue(strategy(COT, step, answer("cot")))
    assert path == "$.steps[1].memory_mb" and "calls no tool" in message


# -- paradigm -----------------------------------------------------------------------------------------
def test_the_paradigm_is_derived_when_left_out():
    agentic, _ = validate_strategy(strategy(AGENT, answer("agent_out")))
    workflow, _ = validate_strategy(strategy(COT, answer("cot")))
    assert (agentic.paradigm, workflow.paradigm) == ("agentic", "workflow")


def test_an_agent_inside_a_loop_makes_the_strategy_agentic():
    loop = {"id": "again", "op": "loop", "max_iters": 2, "body": [AGENT]}
    assert derive_paradigm(Strategy.model_validate(strategy(loop, answer("agent_out"))).steps) == "agentic"


@pytest.mark.parametrize(("stated", "steps", "derived"), [
    ("agentic", [COT, answer("cot")], "workflow"), ("workflow", [AGENT, answer("agent_out")], "agentic")])
def test_a_paradigm_the_steps_contradict_is_reported(stated, steps, derived):
    path, message = only_issue(strategy(*steps, paradigm=stated))
    assert path == "$.paradigm" and f"this strategy is '{derived}'" in message


def test_a_stated_paradigm_that_matches_is_accepted_and_keeps_the_stored_form():
    data = strategy(AGENT, answer("agent_out"), paradigm="agentic")
    assert issues_of(data) == [] and Strategy.model_validate(data).to_json_dict()["paradigm"] == "agentic"


def test_unset_knobs_stay_out_of_the_canonical_json_so_stored_hashes_hold(example_strategies):
    for data in example_strategies.values():
        canonical = Strategy.model_validate(data).to_json_dict()
        stated = {k for step in data["steps"] for k in step}
        for step in canonical["steps"]:
            assert not {"seed", "stop", "reasoning_effort", "timeout_s", "memory_mb"} & (set(step) - stated)
        assert ("max_cost_usd" in canonical["budget"]) == ("max_cost_usd" in data["budget"])


def test_every_shipped_strategy_is_valid_with_the_paradigm_its_steps_give(example_strategies):
    for name, data in example_strategies.items():
        parsed, issues = validate_strategy(data, TOOLS, MODELS)
        assert issues == [], name
        assert parsed.paradigm == derive_paradigm(parsed.steps)


def test_the_schema_puts_the_kind_and_own_fields_before_the_knobs_most_steps_leave_unset():
    properties = list(AgentStep.model_json_schema(by_alias=True)["properties"])
    assert properties.index("op") < properties.index("tools") < properties.index("out") < properties.index("seed")
    assert properties[-2:] == ["timeout_s", "memory_mb"]
    assert AgentStep.model_json_schema()["required"][0] == "op"
