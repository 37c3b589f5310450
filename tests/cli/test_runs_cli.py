"""`egur runs`, clean messages for bad options, and a run another process runs never started twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from egur_core.app.ownership import QUIET_S, RunLease
from egur_core.cli import main
from egur_core.memory.database import MemoryFile
from egur_core.memory.records import utcnow


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG", "EGUR_DB"):
        monkeypatch.delenv(var, raising=False)


def test_runs_lists_each_run_newest_first_with_progress(tmp_path, capsys):
    db = str(tmp_path / "m.duckdb")
    assert main(["run", "--benchmark", "sat3", "--n", "2", "--k", "1", "--db", db, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db]) == 0
    out = capsys.readouterr().out
    header, _, row = out.splitlines()[:3]
    assert header.split()[:5] == ["run", "created", "benchmark", "method", "status"]
    assert "sat3" in row and "egur" in row and "finished" in row and "2/2" in row


def test_runs_on_an_empty_file_says_how_to_start_one(tmp_path, capsys):
    assert main(["runs", "--db", str(tmp_path / "m.duckdb")]) == 0
    assert "no runs" in capsys.readouterr().out


def test_a_dead_run_is_listed_as_interrupted_and_a_live_one_with_its_owner(tmp_path, capsys):
    db = str(tmp_path / "m.duckdb")
    with MemoryFile(db).session() as store:
        dead = store.create_run(benchmark="sat3", n_problems=3)
        live = store.create_run(benchmark="sat3", n_problems=3)
        store.execute("UPDATE runs SET created_at = ?", [utcnow() - timedelta(seconds=QUIET_S + 5)])
    with RunLease(db, live, "cli"):
        assert main(["runs", "--db", db]) == 0
        out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("run-")}
    assert "interrupted" in lines[dead] and "running (cli pid" in lines[live]
    with MemoryFile(db).session() as store:
        assert store.get_run(dead)["status"] == "failed" and store.get_run(live)["status"] == "running"


def test_resume_refuses_a_run_another_process_is_running(tmp_path, capsys):
    db = str(tmp_path / "m.duckdb")
    with MemoryFile(db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=2, config={"loop": {"benchmark": "sat3", "n": 2}})
    with RunLease(db, run_id, "dashboard"):
        assert main(["run", "--resume", run_id, "--db", db, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"run {run_id} is being run by the dashboard" in err
    with MemoryFile(db).session() as store:
        assert store.get_run(run_id)["done"] == 0


def test_zero_problems_is_refused_in_one_plain_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--benchmark", "sat3", "--n", "0", "--db", str(tmp_path / "m.duckdb")])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "argument --n: must be at least 1, not 0" in err


def test_a_setting_out_of_range_is_one_plain_line_without_pydantic_links(tmp_path, capsys):
    assert main(["run", "--benchmark", "sat3", "--k", "9", "--db", str(tmp_path / "m.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: k: Input should be less than or equal to 8") and "https://" not in err


def test_a_count_above_the_benchmark_is_said_and_recorded_as_run(tmp_path, capsys):
    db = str(tmp_path / "m.duckdb")
    assert main(["run", "--benchmark", "aime2025", "--n", "31", "--k", "1", "--db", db, "--quiet"]) == 0
    assert "aime2025 has 30 problems; running 30, not 31" in capsys.readouterr().err
    with MemoryFile(db).session() as store:
        assert int(store.list_runs().iloc[0]["n_problems"]) == 30


def test_the_cli_uses_egur_db_when_no_db_is_given(tmp_path, capsys, monkeypatch):
    db = tmp_path / "shared.duckdb"
    monkeypatch.setenv("EGUR_DB", str(db))
    monkeypatch.chdir(tmp_path)
    assert main(["runs"]) == 0
    assert f"no runs in {db}" in capsys.readouterr().out
