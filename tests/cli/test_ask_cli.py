"""`egur ask`: one problem step by step from the command line, continued later with the right answer."""

from __future__ import annotations

import json
import re

import pytest

from egur_core.app.services import open_memory
from egur_core.cli import main

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "m.duckdb")


def test_asking_shows_memory_candidates_and_answers_then_waits_for_a_verdict(db, capsys):
    assert main(["ask", "How many legs do 3 spiders have?", "--k", "2", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"retrieved \d+ library entries, 0 notes", out) and "the Guide proposed 2 candidates" in out
    assert re.search(r"\*#\d ", out) and "chosen answer (* above, no label seen)" in out
    run_id = re.search(r"--session (run-\S+)", err).group(1)
    assert main(["ask", "--session", run_id, "--answer", "24", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "feedback: right:" in out and "(right answer '24')" in out and "memory edits applied" in out
    with open_memory(db).session() as store:
        assert store.get_run(run_id)["status"] == "finished" and (store.op_log()["run_id"] == run_id).any()


def test_a_picked_problem_with_a_picked_candidate_and_queued_edits(db, tmp_path, capsys):
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps({"id": "q1", "problem": "Name the Red Planet.", "answer": "Mars"}) + "\n")
    main(["dataset", "add", str(data), "--name", "trivia", "--db", db])
    capsys.readouterr()
    assert main(["ask", "--from", "trivia", "--id", "q1", "--k", "3", "--pick", "2", "--right", "2", "--review",
                 "--db", db]) == 0
    out = capsys.readouterr().out
    assert "(trivia): Name the Red Planet." in out and out.count("  #") >= 3
    assert re.search(r"answers:\n \*#2 ", out)  # only the picked candidate ran, so its answer counts
    queued = int(re.search(r"memory edits applied 0, queued for review (\d+)", out).group(1))
    with open_memory(db).session() as store:
        run_id = store.proposals()[0].run_id
        assert queued > 0 and len(store.proposals()) == queued and not (store.op_log()["run_id"] == run_id).any()


def test_a_candidate_that_does_not_exist_is_a_clear_error(db, capsys):
    assert main(["ask", "What is 2 + 2?", "--k", "1", "--pick", "5", "--db", db]) == 1
    assert "error: nothing to run" in capsys.readouterr().err
