"""Structural diffs of strategy versions and opening one step (prompt, sampling, what it did)."""

from __future__ import annotations

import pytest

from egur_core.app.step_details import step_detail, step_ids
from egur_core.app.strategy_diff import COLOURS, diff_dot, strategy_diff
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import Strategy

BASE = {"name": "pips", "steps": [
    {"id": "facts", "op": "llm", "system": "Extract facts.", "prompt": "{problem}", "out": "f"},
    {"id": "attempt", "op": "loop", "max_iters": 2, "until": "ok", "body": [
        {"id": "code", "op": "llm", "prompt": "Write code for {f}", "out": "c", "temperature": 0.2},
        {"id": "check", "op": "verify", "method": "llm", "prompt": "Is {c} right?", "flag": "ok"}]},
    {"id": "final", "op": "answer", "from": "c"}]}


def variant(**changes) -> Strategy:
    data = {**BASE, "steps": [dict(s) for s in BASE["steps"]]}
    loop = data["steps"][1] = {**data["steps"][1], "body": [dict(s) for s in BASE["steps"][1]["body"]]}
    for key, value in changes.items():
        if key == "code_temperature":
            loop["body"][0]["temperature"] = value
        elif key == "drop_check":
            loop["body"] = loop["body"][:1]
            loop.pop("until")
        elif key == "add_vote":
            data["steps"].insert(2, {"id": "vote", "op": "vote", "from": "c", "out": "c"})
        else:
            data[key] = value
    return Strategy.model_validate(data)


def test_identical_versions_have_no_diff():
    assert strategy_diff(variant(), variant()).identical


def test_a_changed_parameter_is_listed_with_both_values():
    diff = strategy_diff(variant(), variant(code_temperature=0.9, name="pips~hot"))
    rows = diff.parameter_rows()
    assert {"step": "code", "parameter": "temperature", "A": 0.2, "B": 0.9} in rows
    assert {"step": "(strategy)", "parameter": "name", "A": "pips", "B": "pips~hot"} in rows
    assert [s.step_id for s in diff.steps if s.status == "changed"] == ["code"]


def test_added_and_removed_steps_and_moved_edges():
    diff = strategy_diff(variant(), variant(drop_check=True, add_vote=True))
    status = {s.step_id: s.status for s in diff.steps}
    assert status["check"] == "removed" and status["vote"] == "added" and status["attempt"] == "changed"
    assert ("vote", "final", "next") in diff.edges_added and ("check", "final", "next") in diff.edges_removed


def test_the_diff_graph_colours_added_and_changed_steps_of_b():
    b = variant(code_temperature=0.9, add_vote=True)
    dot = diff_dot(b, strategy_diff(variant(), b))
    assert f'fillcolor="{COLOURS["changed"]}"' in dot.split('"code" [', 1)[1].split("\n", 1)[0]
    assert f'fillcolor="{COLOURS["added"]}"' in dot.split('"vote" [', 1)[1].split("\n", 1)[0]
    assert "rankdir=TB" in dot


def test_a_step_opens_with_its_texts_sampling_and_wiring():
    strategy = variant()
    assert step_ids(strategy) == ["facts", "attempt", "code", "check", "final"]
    facts = step_detail(strategy, "facts")
    assert facts.texts == {"system": "Extract facts.", "prompt": "{problem}"}
    assert facts.sampling["temperature"] == 0.0 and "model" in facts.sampling and facts.wiring == {"out": "f"}
    loop = step_detail(strategy, "attempt")
    assert loop.wiring["body"] == ["code", "check"] and loop.wiring["max_iters"] == 2
    with pytest.raises(KeyError):
        step_detail(strategy, "nope")


def test_with_a_trace_a_step_shows_each_of_its_runs():
    trace = [StepTrace(step_id="code", op="llm", iteration=i, input=f"prompt {i}", output=f"code {i}",
                       tokens_in=10, tokens_out=5, cost_usd=0.01) for i in (1, 2)]
    detail = step_detail(variant(), "code", trace)
    assert [r.output for r in detail.runs] == ["code 1", "code 2"]
    assert detail.tokens == 30 and detail.cost_usd == pytest.approx(0.02)
    assert step_detail(variant(), "check", trace).runs == []
