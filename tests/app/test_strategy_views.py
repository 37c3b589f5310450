"""The Strategies page's pure helpers: library table, step tables, JSON diff, lineage DOT."""

from __future__ import annotations

import pandas as pd

from egur_core.app.strategy_views import (
    execution_option,
    flatten,
    json_diff,
    library_table,
    lineage_dot,
    parse_trace,
    plan_table,
    pretty,
    step_table,
    strategy_option,
    tool_call_table,
    unified_diff,
)
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import Strategy

COT = {"name": "cot", "steps": [{"id": "t", "op": "llm", "prompt": "{problem}", "out": "r", "temperature": 0.0},
                                {"id": "a", "op": "answer", "from": "r"}]}


def strategies() -> pd.DataFrame:
    return pd.DataFrame([
        {"hash": "h1", "name": "cot", "paradigm": "workflow", "summary": "think", "parent_hash": None,
         "created_by": "guide", "created_at": pd.Timestamp("2026-01-01"), "executions": 10, "accuracy": 0.5,
         "mean_cost": 0.002, "library_entries": 1, "baseline_runs": 0},
        {"hash": "h2", "name": "solver", "paradigm": "workflow", "summary": "sat tool", "parent_hash": None,
         "created_by": "guide", "created_at": pd.Timestamp("2026-01-02"), "executions": 3, "accuracy": 1.0,
         "mean_cost": 0.0, "library_entries": 0, "baseline_runs": 2},
        {"hash": "h3", "name": "agent", "paradigm": "agentic", "summary": "", "parent_hash": "h1",
         "created_by": "person", "created_at": pd.Timestamp("2026-01-03"), "executions": 0, "accuracy": None,
         "mean_cost": None, "library_entries": 0, "baseline_runs": 0}])


def entries() -> pd.DataFrame:
    return pd.DataFrame([{"entry_id": 1, "strategy_hash": "h1", "uses": 4, "successes": 3, "retrievals": 7},
                         {"entry_id": 2, "strategy_hash": "h1", "uses": 0, "successes": 0, "retrievals": 2}])


def test_library_table_joins_library_stats_and_sorts():
    table = library_table(strategies(), entries(), sort="most used")
    assert table["hash"].tolist()[0] == "h1"
    row = table.iloc[0]
    assert (row["in_library"], row["uses"], row["retrievals"], row["success_rate"]) == (2, 4, 9, 0.75)
    assert table.set_index("hash").loc["h2", "in_library"] == 0


def test_library_table_filters():
    assert library_table(strategies(), entries(), search="SAT")["hash"].tolist() == ["h2"]
    assert library_table(strategies(), entries(), paradigms=["agentic"])["hash"].tolist() == ["h3"]
    assert library_table(strategies(), entries(), only_library=True)["hash"].tolist() == ["h1"]
    assert library_table(strategies(), pd.DataFrame(), sort="cheapest")["hash"].tolist()[0] == "h2"
    assert library_table(pd.DataFrame(), pd.DataFrame()).empty


def test_most_used_first_by_default_ties_newest_first():
    assert library_table(strategies(), entries(), sort="newest")["hash"].tolist() == ["h3", "h2", "h1"]
    assert library_table(strategies(), entries())["hash"].tolist() == ["h1", "h3", "h2"]  # most used, then newest


def test_option_labels():
    option = strategy_option({"name": "cot", "hash": "h1", "executions": 4, "accuracy": 0.5})
    assert option == "cot · h1 · 4 runs, 50% right"
    label = execution_option({"run_id": "r1", "idx": 2, "candidate": 0, "ok": True, "correct": False,
                              "chosen": True, "cost_usd": 0.0012, "latency_s": 0.5})
    assert label == "r1 #3 · candidate 1 · ✗ wrong · chosen · $0.0012 · 0.50s"  # people count from 1
    assert "failed" in execution_option({"ok": False, "correct": None})


def test_plan_and_step_tables():
    plan = plan_table(Strategy.model_validate(COT))
    assert plan["step"].tolist() == ["t", "a"]
    trace = parse_trace('[{"step_id": "t", "op": "llm", "iteration": 2, "cost_usd": 0.5, "ok": false, '
                        '"error": "boom", "tokens_in": 3, "tokens_out": 4}]')
    table = step_table(trace)
    assert table.iloc[0]["round"] == 2 and table.iloc[0]["tokens"] == 7 and table.iloc[0]["error"] == "boom"
    assert parse_trace(None) is None
    assert step_table([StepTrace(step_id="a", op="answer")])["round"].isna().all()


def test_tool_call_table_lists_each_call_of_a_stored_trace_in_order():
    trace = parse_trace('[{"step_id": "agent", "op": "agent", "tool_calls": ['
                        '{"turn": 1, "tool": "calculator", "input": "6*7", "output": "42", "seconds": 0.1},'
                        '{"turn": 2, "tool": "python", "input": "x", "ok": false, "error": "timed out"}]},'
                        '{"step_id": "final", "op": "answer"}]')
    table = tool_call_table(trace)
    assert table[["turn", "tool", "result"]].values.tolist() == [[1, "calculator", "42"], [2, "python", "timed out"]]
    assert tool_call_table([StepTrace(step_id="a", op="answer")]).empty


def test_flatten_and_json_diff_by_path():
    assert flatten({"a": [{"b": 1}], "c": {}}) == {"$.a[0].b": 1, "$.c": {}}
    other = {**COT, "name": "cot2", "steps": [{**COT["steps"][0], "temperature": 0.7}, COT["steps"][1],
                                              {"id": "z", "op": "answer", "from": "r"}]}
    diff = json_diff(COT, other)
    rows = {r["path"]: r for r in diff.to_dict("records")}
    assert rows["$.name"]["change"] == "changed"
    assert rows["$.steps[0].temperature"]["left"] == "0.0" and rows["$.steps[0].temperature"]["right"] == "0.7"
    assert rows["$.steps[2].id"]["change"] == "only right"
    assert json_diff(COT, COT).empty


def test_diff_paths_sort_numerically():
    left = {"s": list(range(12))}
    right = {"s": [*range(11), 99]}
    assert json_diff(left, right)["path"].tolist() == ["$.s[11]"]
    many = json_diff({"s": list(range(12))}, {"s": [x + 1 for x in range(12)]})["path"].tolist()
    assert many.index("$.s[2]") < many.index("$.s[10]")


def test_unified_diff():
    assert unified_diff(COT, COT) == ""
    text = unified_diff(COT, {**COT, "name": "x"}, "a", "b")
    assert '-  "name": "cot",' in text and '+  "name": "x",' in text


def test_lineage_dot_has_parent_edges_and_highlights_current():
    dot = lineage_dot([{"hash": "h1", "name": "cot", "parent_hash": None, "created_by": "guide"},
                       {"hash": "h3", "name": 'a "b"', "parent_hash": "h1", "created_by": "person"},
                       {"hash": "h9", "name": "orphan", "parent_hash": "missing", "created_by": "guide"}], "h3")
    assert '"h1" -> "h3";' in dot and "missing" not in dot
    assert '\\"b\\"' in dot  # quotes escaped
    current = next(line for line in dot.splitlines() if line.strip().startswith('"h3" ['))
    assert "penwidth=2" in current


def test_pretty_is_the_canonical_json():
    text = pretty(Strategy.model_validate(COT))
    assert Strategy.model_validate_json(text).hash == Strategy.model_validate(COT).hash
