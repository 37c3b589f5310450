"""The Strategies page (AppTest): library, graph with trace overlay, compare, lineage, editing."""

from __future__ import annotations

import json

from egur_core.app.services import open_memory
from egur_core.memory.ops import AddEntry

PAGE = "pages/strategies.py"


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def dots(at) -> list[str]:
    return [g.proto.spec for g in at.get("graphviz_chart")]


def test_empty_memory_says_run_a_benchmark(empty_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert "No strategies yet" in texts(at.info) and "Run" in texts(at.info)


def test_graph_with_execution_overlay_and_step_table(populated_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    graph = dots(at)[0]
    assert graph.startswith("digraph") and 'start [shape=circle' in graph
    assert '#dcfce7' in graph or '#fee2e2' in graph  # steps that ran are filled (an execution is overlaid)
    step_tables = [d.value for d in at.dataframe if "latency_s" in d.value.columns]
    assert step_tables and len(step_tables[0]) >= 1
    at.selectbox(key=f"execution_pick_{at.selectbox(key='strategy_pick').value}").set_value(0).run()
    assert '#dcfce7' not in dots(at)[0] and "#fee2e2" not in dots(at)[0]  # the plan alone


def test_library_table_and_filters(populated_db, open_page):
    at = open_page(PAGE)
    table = at.dataframe[0].value
    assert {"uses", "success_rate", "mean_cost", "retrievals", "executions"} <= set(table.columns)
    at.text_input(key="strategy_search").set_value("no-such-strategy-xyz").run()
    assert "No strategy matches" in texts(at.warning)


def test_compare_is_a_structural_diff_with_changed_parameters(populated_db, open_page):
    with open_memory(populated_db).session() as store:
        base = store.list_strategies().iloc[0]["hash"]
        data = store.strategy_row(base)["json"]
        llm = next(s for s in data["steps"] if s["op"] == "llm")
        llm["temperature"] = 1.3
        child = store.save_strategy(data, parent_hash=base, created_by="person")
    at = open_page(PAGE)
    at.selectbox(key="strategy_pick").set_value(child).run()
    assert at.selectbox(key="compare_pick").value == base  # the parent, by default
    params = next(d.value for d in at.dataframe if list(d.value.columns) == ["step", "parameter", "A", "B"])
    changed = params[params["parameter"] == "temperature"]
    assert len(changed) == 1 and changed.iloc[0]["step"] == llm["id"] and changed.iloc[0]["B"] == "1.3"
    diff_graph = next(d for d in dots(at) if "#fde68a" in d)  # one graph, the changed step coloured
    assert f'"{llm["id"]}" [label=' in diff_graph


def test_every_graph_is_drawn_top_to_bottom_and_a_step_opens_with_its_trace(populated_db, open_page):
    at = open_page(PAGE)
    current = at.selectbox(key="strategy_pick").value
    assert "rankdir=TB" in dots(at)[0]
    picker = at.selectbox(key=f"step_pick_{current}")
    assert picker.options and picker.value
    assert any("template" in m.value for m in at.markdown)  # its prompt text
    assert any("input" in m.value for m in at.markdown) and any(" out tokens" in e.label for e in at.expander)


def test_edit_with_errors_shows_paths_and_saves_nothing(populated_db, open_page):
    at = open_page(PAGE)
    current = at.selectbox(key="strategy_pick").value
    with open_memory(populated_db).session() as store:
        before = len(store.list_strategies())
    bad = {"name": "broken", "steps": [{"id": "t", "op": "llm", "prompt": "{problem}", "out": "r", "temperature": 9},
                                       {"id": "a", "op": "answer", "from": "nowhere"}]}
    at.text_area(key=f"edit_json_{current}").set_value(json.dumps(bad)).run()
    at.button(key="save_version").click().run()
    assert not at.exception
    error = texts(at.error)
    assert "Not saved" in error and "`$.steps[0].temperature`" in error
    with open_memory(populated_db).session() as store:
        assert len(store.list_strategies()) == before


def test_edit_saves_a_child_version_and_repoints_a_chosen_entry(populated_db, open_page):
    with open_memory(populated_db).session() as store:
        target = store.list_strategies().iloc[0]["hash"]
        store.apply(AddEntry(signature="entry to repoint", strategy=store.strategy_row(target)["json"]), "person")
        entry_id = int(store.list_entries(search="entry to repoint").iloc[0]["entry_id"])
    at = open_page(PAGE)
    at.selectbox(key="strategy_pick").set_value(target).run()
    edited = json.loads(at.text_area(key=f"edit_json_{target}").value)
    edited["summary"] = "Edited by a person in the dashboard."
    at.text_area(key=f"edit_json_{target}").set_value(json.dumps(edited)).run()
    assert at.multiselect(key=f"edit_entries_{target}").value == []  # repointing is opt-in, per entry
    at.multiselect(key=f"edit_entries_{target}").set_value([entry_id]).run()
    at.button(key="save_version").click().run()
    assert not at.exception and "Saved version" in texts(at.success)
    new = at.selectbox(key="strategy_pick").value
    assert new != target
    with open_memory(populated_db).session() as store:
        row = store.strategy_row(new)
        assert row["parent_hash"] == target and row["created_by"] == "person"
        assert store.get_entry(entry_id)["strategy_hash"] == new
        last = store.op_log(1).iloc[0]
        assert (last["kind"], last["actor"]) == ("update_entry", "person")
    assert f'"{target}" -> "{new}";' in dots(at)[-1]  # the lineage graph shows the new edge
