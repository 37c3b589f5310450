"""The Results page in AppTest: empty file, a comparison of an EGuR run with a baseline, what it opens
on, the benchmark filter, and the per-problem diff of two runs."""

from __future__ import annotations

import duckdb

from egur_core.app.services import open_memory

RESULTS = "pages/results.py"


def run_ids(db) -> dict[str, str]:
    with duckdb.connect(str(db)) as con:
        return dict(con.execute("SELECT method, run_id FROM runs").fetchall())


def test_empty_file_points_to_the_run_page(empty_db, open_page):
    at = open_page(RESULTS)
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_a_comparison_is_selected_drawn_and_tabulated(populated_db, open_page):
    at = open_page(RESULTS)
    assert not at.exception and not at.error
    selected = at.multiselect(key="results_runs").value
    assert len(selected) == 2  # the newest run's comparison: EGuR and its baseline
    assert len(at.get("plotly_chart")) == 4
    table = at.dataframe[0].value
    assert sorted(table["method"]) == ["Chain of thought", "EGuR"]
    egur = table[table["method"] == "EGuR"].iloc[0]
    assert egur["problems"] == 6 and 0 <= egur["accuracy"] <= 1 and egur["cost_per_problem"] > 0
    assert egur["tokens"] > 0 and 0 <= egur["exploited_share"] <= 1
    assert len(at.get("download_button")) == 2
    links = at.get("page_link")
    assert {link.proto.page for link in links} == {"run", "problems"}
    assert {link.proto.query_string for link in links} == {f"run_id={r}" for r in table["run_id"]}
    assert any("simulated model" in c.value for c in at.caption)


def test_it_opens_on_the_run_in_the_url(populated_db, open_page):
    at = open_page(RESULTS)
    egur = run_ids(populated_db)["egur"]
    with open_memory(populated_db).session() as store:
        solo = store.create_run(benchmark="bbeh_mini", n_problems=2)  # newer, but not the one asked for
    at.query_params["run_id"] = egur
    at.run()
    assert egur in at.multiselect(key="results_runs").value and solo not in at.multiselect(key="results_runs").value


def test_it_opens_on_a_comparison_in_the_url(populated_db, open_page):
    with duckdb.connect(str(populated_db)) as con:
        comparison = con.execute("SELECT comparison_id FROM runs WHERE method = 'egur'").fetchone()[0]
    at = open_page(RESULTS)
    at.query_params["comparison"] = comparison
    at.run()
    assert sorted(at.multiselect(key="results_runs").value) == sorted(run_ids(populated_db).values())


def test_without_a_focus_runs_of_different_benchmarks_are_not_overlaid(empty_db, open_page):
    with open_memory(empty_db).session() as store:
        store.create_run(benchmark="sat3", n_problems=1)
        newest = store.create_run(benchmark="aime2025", n_problems=1)
    at = open_page(RESULTS)
    assert at.multiselect(key="results_runs").value == [newest]


def test_choosing_a_benchmark_selects_its_runs_instead_of_emptying_the_selection(empty_db, open_page):
    with open_memory(empty_db).session() as store:
        sat = store.create_run(benchmark="sat3", n_problems=1)
        store.create_run(benchmark="aime2025", n_problems=1)
    at = open_page(RESULTS)
    at.selectbox(key="results_benchmark").set_value("sat3").run()
    assert not at.exception
    assert at.multiselect(key="results_runs").value == [sat]


def test_choosing_runs_updates_the_table(populated_db, open_page):
    egur = run_ids(populated_db)["egur"]
    at = open_page(RESULTS)
    at.multiselect(key="results_runs").set_value([egur]).run()
    assert list(at.dataframe[0].value["run_id"]) == [egur]
    at.multiselect(key="results_runs").set_value([]).run()
    assert "Choose one or more runs" in at.info[0].value


def test_the_per_problem_diff_shows_what_one_run_got_right_and_the_other_wrong(populated_db, open_page):
    ids = run_ids(populated_db)
    at = open_page(RESULTS)
    assert at.selectbox(key="diff_a").value == ids["egur"] and at.selectbox(key="diff_b").value == ids["cot"]
    at.selectbox(key="diff_which").set_value("all").run()
    table = next(d.value for d in at.dataframe if "a_answer" in d.value.columns)
    with duckdb.connect(str(populated_db)) as con:
        truth = dict(con.execute("SELECT idx + 1, coalesce(correct, false) FROM problems WHERE run_id = ?",
                                 [ids["egur"]]).fetchall())
    assert len(table) == 6 and all(truth[n] == right for n, right in zip(table["number"], table["a_right"]))
    assert table["a_open"].iloc[0] == f"/problems?run_id={ids['egur']}&problem={table['number'].iloc[0]}"
    summary = next(c.value for c in at.caption if "shared problems" in c.value)
    assert summary.startswith("6 shared problems")


def test_a_run_with_no_finished_problems_still_renders(empty_db, open_page):
    with open_memory(empty_db).session() as store:
        store.create_run(benchmark="sat3", n_problems=5)
    at = open_page(RESULTS)
    assert not at.exception
    assert at.dataframe[0].value["problems"].tolist() == [0]
