"""The Results page in AppTest: empty file, and a comparison of an EGuR run with a baseline."""

from __future__ import annotations

import duckdb

RESULTS = "pages/results.py"


def test_empty_file_points_to_the_run_page(empty_db, open_page):
    at = open_page(RESULTS)
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_a_comparison_is_selected_drawn_and_tabulated(populated_db, open_page):
    at = open_page(RESULTS)
    assert not at.exception and not at.error
    selected = at.multiselect(key="results_runs").value
    assert len(selected) == 2  # the newest comparison: EGuR and its baseline
    assert len(at.get("plotly_chart")) == 4
    table = at.dataframe[0].value
    assert sorted(table["method"]) == ["cot", "egur"]
    egur = table[table["method"] == "egur"].iloc[0]
    assert egur["problems"] == 6 and 0 <= egur["accuracy"] <= 1 and egur["cost_per_problem"] > 0
    assert egur["tokens"] > 0 and 0 <= egur["exploited_share"] <= 1
    assert len(at.get("download_button")) == 2
    links = at.get("page_link")
    assert len(links) == 2 and {link.proto.page for link in links} == {"run"}
    assert {link.proto.query_string for link in links} == {f"run_id={r}" for r in table["run_id"]}
    assert any("simulated model" in c.value for c in at.caption)


def test_choosing_runs_and_benchmarks_updates_the_table(populated_db, open_page):
    with duckdb.connect(str(populated_db)) as con:
        egur = con.execute("SELECT run_id FROM runs WHERE method = 'egur'").fetchone()[0]
    at = open_page(RESULTS)
    at.multiselect(key="results_runs").set_value([egur]).run()
    assert list(at.dataframe[0].value["run_id"]) == [egur]
    at.multiselect(key="results_runs").set_value([]).run()
    assert "Choose one or more runs" in at.info[0].value
    at.selectbox(key="results_benchmark").set_value("sat3").run()
    assert not at.exception


def test_a_run_with_no_finished_problems_still_renders(empty_db, open_page):
    from egur_core.app.services import open_memory

    with open_memory(empty_db).session() as store:
        store.create_run(benchmark="sat3", n_problems=5)
    at = open_page(RESULTS)
    assert not at.exception
    assert at.dataframe[0].value["problems"].tolist() == [0]
