"""The problem inspector's queries on a real run (the demo file: the loop on the simulated model)."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.app.inspector import ProblemFilter, has_feedback_source, problem_detail, problem_page, strategy_names
from egur_core.app.services import open_memory


@pytest.fixture
def egur_run(populated_db) -> str:
    with duckdb.connect(str(populated_db)) as con:
        return con.execute("SELECT run_id FROM runs WHERE method = 'egur'").fetchone()[0]


@pytest.fixture
def store(populated_db):
    with open_memory(populated_db).session() as store:
        yield store


def test_pages_number_problems_from_one_and_count_every_match(store, egur_run):
    first, total = problem_page(store, egur_run, ProblemFilter(), page=1, page_size=4)
    second, _ = problem_page(store, egur_run, ProblemFilter(), page=2, page_size=4)
    assert total == 6 and first["number"].tolist() == [1, 2, 3, 4] and second["number"].tolist() == [5, 6]
    assert (first["candidates"] >= 1).all() and (first["cost_usd"] > 0).all()


@pytest.mark.parametrize("outcome", ["right", "wrong"])
def test_the_outcome_filter_matches_the_graded_answers(store, egur_run, outcome):
    frame, total = problem_page(store, egur_run, ProblemFilter(outcome=outcome))
    truth = store.query_df("SELECT idx + 1 AS number, coalesce(correct, false) AS right FROM problems "
                           "WHERE run_id = ?", [egur_run])
    expected = truth[truth["right"] == (outcome == "right")]["number"].tolist()
    assert frame["number"].tolist() == expected and total == len(expected)


def test_how_and_strategy_filters(store, egur_run):
    exploited, _ = problem_page(store, egur_run, ProblemFilter(how="exploited"))
    explored, _ = problem_page(store, egur_run, ProblemFilter(how="explored"))
    assert exploited["exploited"].all() and not explored["exploited"].any()
    assert len(exploited) + len(explored) == 6
    name = strategy_names(store, egur_run)[0]
    picked, total = problem_page(store, egur_run, ProblemFilter(strategy=name))
    assert total >= 1 and (picked["strategy"] == name).all()
    none, total = problem_page(store, egur_run, ProblemFilter(search="no such text anywhere"))
    assert none.empty and total == 0


def test_a_problem_in_full_has_its_text_gold_candidates_traces_and_costs(store, egur_run):
    detail = problem_detail(store, egur_run, 1)
    row = store.query_one("SELECT * FROM problems WHERE run_id = ? AND idx = 0", [egur_run])
    assert detail.number == 1 and detail.text == row["text"] and detail.gold == row["gold"]
    assert detail.answer == row["answer"] and detail.correct == row["correct"]
    assert detail.cost_usd == pytest.approx(row["cost_usd"]) and detail.cost_by_role["guide"] > 0
    chosen = [c for c in detail.candidates if c.chosen]
    assert len(chosen) == 1 and chosen[0].strategy is not None and chosen[0].trace
    assert [c.number for c in detail.candidates] == list(range(1, len(detail.candidates) + 1))
    assert detail.retrieved is not None and detail.ops  # the Consolidator changed memory on the first problem


def test_an_unknown_problem_is_none(store, egur_run):
    assert problem_detail(store, egur_run, 999) is None


def test_feedback_source_lights_up_when_the_column_exists(store, egur_run):
    if not has_feedback_source(store):  # a file from before executions recorded it
        store.execute("ALTER TABLE executions ADD COLUMN feedback_source VARCHAR")
    assert has_feedback_source(store)
    store.execute("UPDATE executions SET feedback_source = 'label' WHERE run_id = ?", [egur_run])
    detail = problem_detail(store, egur_run, 1)
    assert {c.feedback_source for c in detail.candidates} == {"label"}
