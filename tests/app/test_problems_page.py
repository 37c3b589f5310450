"""The Problems page (AppTest): every problem of a run, filtered and paged; one problem in full."""

from __future__ import annotations

import duckdb
import pytest

PAGE = "pages/problems.py"


@pytest.fixture
def egur_run(populated_db) -> str:
    with duckdb.connect(str(populated_db)) as con:
        return con.execute("SELECT run_id FROM runs WHERE method = 'egur'").fetchone()[0]


def table(at):
    return next(d.value for d in at.dataframe if "number" in d.value.columns and "outcome" in d.value.columns)


def test_empty_file_points_to_the_run_page(empty_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_every_problem_of_the_run_in_the_url_is_listed_from_one(populated_db, open_page, egur_run):
    at = open_page(PAGE)
    at.query_params["run_id"] = egur_run
    at.run()
    assert not at.exception
    assert at.selectbox(key="inspect_run").value == egur_run
    assert table(at)["number"].tolist() == [1, 2, 3, 4, 5, 6]
    assert any("page 1 of 1 · 6 problem(s)" in c.value for c in at.caption)


def test_a_problem_opens_with_its_text_then_the_answer_then_the_gold_answer(populated_db, open_page, egur_run):
    with duckdb.connect(str(populated_db)) as con:
        text, answer, gold = con.execute("SELECT text, answer, gold FROM problems WHERE run_id = ? AND idx = 1",
                                         [egur_run]).fetchone()
    at = open_page(PAGE)
    at.query_params.update({"run_id": egur_run, "problem": "2"})
    at.run()
    assert not at.exception
    assert any(h.value == "Problem #2" for h in at.subheader)
    codes = [c.value.strip() for c in at.code]  # st.code keeps the text but not trailing newlines
    assert codes[:3] == [text.strip(), answer.strip(), gold.strip()]  # problem, then answer, then the label
    labels = [m.value for m in at.markdown]
    assert labels.index(next(m for m in labels if m.startswith("**Chosen answer**"))) < \
        labels.index(next(m for m in labels if m.startswith("**Gold answer**")))
    assert {m.label for m in at.metric} >= {"guide $", "executor $", "consolidator $", "total $"}
    assert at.tabs and any("chosen" in t.label for t in at.tabs)
    assert at.get("graphviz_chart") and "rankdir=TB" in at.get("graphviz_chart")[0].proto.spec


def test_filters_narrow_the_list_and_reset_the_page(populated_db, open_page, egur_run):
    at = open_page(PAGE)
    at.query_params["run_id"] = egur_run
    at.run()
    at.selectbox(key="inspect_outcome").set_value("wrong").run()
    with duckdb.connect(str(populated_db)) as con:
        wrong = [n for (n,) in con.execute("SELECT idx + 1 FROM problems WHERE run_id = ? AND NOT coalesce(correct, "
                                           "false) = true ORDER BY idx", [egur_run]).fetchall()]
    if wrong:
        assert table(at)["number"].tolist() == wrong
    else:
        assert "No problem of this run matches" in at.info[0].value
    at.text_input(key="inspect_search").set_value("no such text at all").run()
    assert "No problem of this run matches" in at.info[0].value
    assert at.session_state["inspect_page"] == 1


def test_pages_move_through_a_long_run(empty_db, open_page):
    from egur_core.app.services import open_memory
    from egur_core.memory.records import ProblemResult

    with open_memory(empty_db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=60)
        for idx in range(60):
            store.start_problem(run_id, idx, f"p{idx}", f"problem text {idx}", gold="UNSAT")
            store.finish_problem(ProblemResult(run_id=run_id, idx=idx, answer="UNSAT", correct=idx % 2 == 0))
    at = open_page(PAGE)
    assert table(at)["number"].tolist()[:2] == [1, 2] and len(table(at)) == 25
    at.button(key="page_next").click().run()
    assert table(at)["number"].tolist()[0] == 26
    at.button(key="page_next").click().run()
    assert table(at)["number"].tolist() == list(range(51, 61)) and at.button(key="page_next").disabled
    at.query_params["problem"] = "60"
    at.run()
    assert any(h.value == "Problem #60" for h in at.subheader)
