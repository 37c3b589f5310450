"""`egur run`: headless runs, reports, resume after a kill, and sharing the file with another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from egur_core.cli import main
from egur_core.memory.database import MemoryFile

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def egur(*args: str, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL")}
    return subprocess.Popen([sys.executable, "-m", "egur_core", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_run_writes_a_report_whose_records_match_the_summary(tmp_path, capsys):
    db, report = tmp_path / "m.duckdb", tmp_path / "r.json"
    assert main(["run", "--benchmark", "sat3", "--n", "6", "--k", "2", "--seed", "1", "--db", str(db),
                 "--report", str(report), "--quiet"]) == 0
    data = json.loads(report.read_text())
    assert [p["index"] for p in data["problems"]] == list(range(6))
    total = sum(sum(p["cost_usd"].values()) for p in data["problems"])
    assert f"{total:.5f}" in capsys.readouterr().out
    assert data["run"]["simulated"] is True and data["run"]["config"]["loop"]["k"] == 2


def test_run_notes_when_the_call_cap_limits_problems_in_flight(tmp_path, capsys):
    assert main(["run", "--benchmark", "sat3", "--n", "2", "--k", "3", "--parallel", "4", "--quiet",
                 "--db", str(tmp_path / "m.duckdb")]) == 0
    assert "note: 4 problems in flight with 3 candidates each can make 12 or more model calls at once, but the " \
           "settings allow 8" in capsys.readouterr().err


def test_run_refuses_an_unknown_benchmark_clearly_and_records_nothing(tmp_path, capsys):
    db = tmp_path / "m.duckdb"
    assert main(["run", "--benchmark", "nope", "--n", "1", "--db", str(db)]) == 1
    assert "unknown benchmark 'nope'; valid names: sat3" in capsys.readouterr().err
    with MemoryFile(db).session() as store:
        assert store.list_runs().empty


@pytest.mark.parametrize("parallel", [["1"], ["4"], ["4", "--as-ready"]], ids=["one", "in-order", "as-ready"])
def test_a_killed_cli_run_resumes_and_loses_nothing(tmp_path, parallel):
    db = tmp_path / "m.duckdb"
    proc = egur("run", "--benchmark", "sat3", "--n", "12", "--k", "2", "--seed", "2", "--db", str(db),
                "--parallel", *parallel)
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "4/12" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with MemoryFile(db).session() as store:
        run_id = store.list_runs()["run_id"][0]
        done_before = store.finished_indices(run_id)
        answers_before = store.problem_rows(run_id).set_index("idx")["answer"].to_dict()
    assert len(done_before) >= 4, lines
    resumed = egur("run", "--db", str(db), "--resume", run_id, "--quiet")
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    with MemoryFile(db).session() as store:
        assert store.finished_indices(run_id) == set(range(12))
        assert store.get_run(run_id)["status"] == "finished"
        after = store.problem_rows(run_id).set_index("idx")["answer"].to_dict()
        chosen = store.query("SELECT idx, count(*) AS n FROM executions WHERE run_id = ? AND chosen AND NOT stale "
                             "GROUP BY idx", [run_id])
    assert all(after[i] == answers_before[i] for i in done_before)
    assert all(row["n"] == 1 for row in chosen)  # no problem done twice


def test_a_second_process_can_use_the_file_while_a_run_goes_on(tmp_path):
    db = tmp_path / "m.duckdb"
    proc = egur("run", "--benchmark", "sat3", "--n", "15", "--k", "3", "--seed", "3", "--db", str(db), "--quiet")
    memory = MemoryFile(db, wait_s=60)
    reads, errors = [], []

    def reader():
        while proc.poll() is None:
            try:
                with memory.session() as store:
                    reads.append(len(store.list_runs()))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            time.sleep(0.2)

    thread = threading.Thread(target=reader)
    thread.start()
    out, err = proc.communicate(timeout=200)
    thread.join()
    assert proc.returncode == 0, err
    assert not errors and len(reads) >= 1
    assert "Could not set lock" not in err


def test_a_run_on_an_unpriced_model_shows_price_unknown_not_zero_dollars(tmp_path, capsys, monkeypatch):
    from tests.fakes.openai_server import FakeOpenAIServer

    with FakeOpenAIServer("strict") as server:
        monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
        assert main(["run", "--benchmark", "sat3", "--n", "2", "--k", "1", "--db",
                     str(tmp_path / "m.duckdb"), "--base-url", server.base_url, "--model", "my-local-7b"]) == 0
    out = capsys.readouterr()
    table = {line.split("  ")[0].strip(): line.split("  ")[-1].strip() for line in out.out.splitlines() if "$" in line}
    assert table["cost total $"] == table["cost per problem $"] == table["cost guide $"] == "price unknown"
    progress = [line for line in out.err.splitlines() if line.startswith("[")]
    assert len(progress) == 2 and all("price unknown" in line and "$" not in line for line in progress)
