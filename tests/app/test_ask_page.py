"""The Ask page in AppTest: type a problem, see the Guide's candidates, run, give the answer, see the memory edit."""

from __future__ import annotations

import json

from egur_core.app.datasets import add_file
from egur_core.app.services import open_memory
from egur_core.evals.datasets.stored import DatasetSpec

ASK = "pages/ask.py"


def start(open_page, text: str = "How many legs do 3 spiders have?", k: int = 2):
    at = open_page(ASK)
    at.text_area(key="ask_text").set_value(text)
    at.number_input(key="ask_k").set_value(k)
    return at.button(key="ask_start").click().run()


def test_a_typed_problem_shows_memory_and_the_guides_candidates_with_graphs(empty_db, open_page):
    at = start(open_page)
    assert not at.exception and not at.error
    assert at.query_params["ask"].startswith("run-")
    assert any(e.label.startswith("Retrieved from memory: ") for e in at.expander)
    assert [s.value for s in at.subheader] == ["The Guide's candidates (2)"]
    assert len(at.get("graphviz_chart")) == 2
    assert at.checkbox(key="ask_pick_0").value and at.button(key="ask_run").label == "Run all"


def test_running_picked_candidates_shows_answers_traces_and_costs(empty_db, open_page):
    at = start(open_page)
    at.checkbox(key="ask_pick_1").uncheck()
    at.button(key="ask_run").click().run()
    assert not at.exception and not at.error
    answers = at.dataframe[-1].value
    assert answers["candidate"].tolist() == [1] and answers["cost $"].iloc[0] > 0 and bool(answers["chosen"].iloc[0])
    assert any(e.label == "Trace" for e in at.expander)
    assert at.button(key="ask_run").disabled  # nothing picked yet; the other one can still run
    at.checkbox(key="ask_pick_1").check().run()
    assert at.button(key="ask_run").label == "Run 1 selected" and not at.button(key="ask_run").disabled


def test_giving_the_right_answer_applies_the_consolidators_edit(empty_db, open_page):
    at = start(open_page)
    at.button(key="ask_run").click().run()
    at.text_input(key="ask_gold").set_value("24")
    at.button(key="ask_tell").click().run()
    assert [s.value for s in at.subheader][-1] == "What the Consolidator wants to change"
    edits = [m.value for m in at.markdown if m.value.startswith("- **")]
    assert edits and all(e.split("**")[1] in ("add_note", "add_entry", "rate_note", "update_entry") for e in edits)
    at.button(key="ask_apply").click().run()
    assert not at.exception and "Memory edits applied" in at.success[0].value
    run_id = at.query_params["ask"]
    with open_memory(empty_db).session() as store:
        log = store.op_log()
        assert (log["run_id"] == run_id).sum() == len(edits) and store.get_run(run_id)["status"] == "finished"
        assert store.problem_rows(run_id).iloc[0]["gold"] == "24"


def test_edits_can_be_queued_for_review(empty_db, open_page):
    at = start(open_page)
    at.button(key="ask_run").click().run()
    at.segmented_control(key="ask_mark_0").set_value("right").run()
    at.button(key="ask_tell").click().run()
    at.button(key="ask_queue").click().run()
    with open_memory(empty_db).session() as store:
        assert store.proposals() and not (store.op_log()["run_id"] == at.query_params["ask"]).any()


def test_a_problem_is_picked_from_a_dataset(empty_db, open_page, tmp_path):
    data = tmp_path / "trivia.jsonl"
    data.write_text(json.dumps({"id": "t1", "problem": "Name the Red Planet.", "answer": "Mars"}) + "\n")
    with open_memory(empty_db).session() as store:
        add_file(store, data, DatasetSpec(name="trivia"))
    at = open_page(ASK)
    at.selectbox(key="ask_dataset").set_value("trivia").run()
    at.selectbox(key="ask_problem").set_value("t1").run()
    at.button(key="ask_start").click().run()
    assert not at.exception and "Name the Red Planet." in at.code[0].value and "trivia" in at.caption[1].value
    at.button(key="ask_run").click().run()
    assert "The dataset's answer: `Mars`" in [c.value for c in at.caption]


def test_asking_nothing_says_what_to_do(empty_db, open_page):
    at = open_page(ASK)
    at.button(key="ask_start").click().run()
    assert not at.exception and "type a problem, or pick one from a dataset" in at.error[0].value
    assert "ask" not in at.query_params
