"""The Evolution page (AppTest): a run's version tree, accuracy vs cost per version, the timeline."""

from __future__ import annotations

import duckdb

PAGE = "pages/evolution.py"


def test_empty_file_says_start_a_run(empty_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert "No EGuR run yet" in at.info[0].value


def test_a_run_shows_its_tree_charts_and_table(populated_db, open_page):
    with duckdb.connect(str(populated_db)) as con:
        run_id = con.execute("SELECT run_id FROM runs WHERE method = 'egur'").fetchone()[0]
        used = con.execute("SELECT count(DISTINCT strategy_hash) FROM executions WHERE run_id = ? AND strategy_hash "
                           "IS NOT NULL", [run_id]).fetchone()[0]
    at = open_page(PAGE)
    assert not at.exception
    assert at.selectbox(key="evolution_run").value == run_id
    dot = at.get("graphviz_chart")[0].proto.spec
    assert dot.startswith("digraph evolution") and dot.count(" uses · ") == used
    assert len(at.get("plotly_chart")) == 2
    versions = next(d.value for d in at.dataframe if "first_problem" in d.value.columns)
    assert len(versions) == used and versions["uses"].sum() > 0


def test_a_derived_version_is_drawn_under_its_parent(populated_db, open_page):
    from egur_core.app.services import open_memory

    with open_memory(populated_db).session() as store:
        run_id = store.list_runs().query("method == 'egur'").iloc[0]["run_id"]
        used = store.query("SELECT strategy_hash FROM executions WHERE run_id = ? AND strategy_hash IS NOT NULL "
                           "LIMIT 1", [run_id])[0]["strategy_hash"]
        data = store.strategy_row(used)["json"]
        data["summary"] = "an older version it came from"
        parent = store.save_strategy(data, created_by="person")
        store.execute("UPDATE strategies SET parent_hash = ? WHERE hash = ?", [parent, used])
    at = open_page(PAGE)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert f'"{parent}" -> "{used}";' in dot and "ancestor, not run here" in dot
