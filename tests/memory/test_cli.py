from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from egur_core.cli import main
from egur_core.memory.database import MemoryFile
from egur_core.memory.ops import AddEntry, AddNote
from tests.memory import strategy_dict

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path) -> str:
    """A memory file with two entries (one used and failing) and a note."""
    path = str(tmp_path / "egur.duckdb")
    with MemoryFile(path).session() as store:
        store.apply_many([AddEntry(signature="count objects", strategy=strategy_dict("counter")),
                          AddEntry(signature="sat formulas", strategy=strategy_dict("solver")),
                          AddNote(text="check twice")], actor="consolidator")
        for _ in range(3):
            store.record_entry_outcome(2, False, 0.1)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["memory", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_entries_as_a_table(db: str, capsys) -> None:
    code, out, _ = run(capsys, "list", "--db", db)
    assert code == 0 and "count objects" in out and "solver" in out and out.splitlines()[0].split()[0] == "entry_id"


def test_list_notes_with_search(db: str, capsys) -> None:
    code, out, _ = run(capsys, "--db", db, "list", "--notes", "--search", "twice")
    assert code == 0 and "check twice" in out


def test_show_prints_stats_strategy_and_ops(db: str, capsys) -> None:
    code, out, _ = run(capsys, "show", "2", "--db", db)
    assert code == 0 and "sat formulas" in out and '"name": "solver"' in out and "add_entry" in out


def test_show_unknown_entry_is_one_error_line(db: str, capsys) -> None:
    code, out, err = run(capsys, "show", "99", "--db", db)
    assert code == 1 and err.strip() == "error: no entry 99"


def test_prune_dry_run_deletes_nothing(db: str, capsys) -> None:
    code, out, _ = run(capsys, "prune", "--db", db, "--max-success-rate", "0.5", "--dry-run")
    assert code == 0 and "sat formulas" in out
    with MemoryFile(db).session() as store:
        assert len(store.list_entries()) == 2


def test_prune_yes_deletes_and_undo_restores(db: str, capsys) -> None:
    code, out, _ = run(capsys, "prune", "--db", db, "--max-success-rate", "0.5", "--yes")
    assert code == 0 and "pruned 1 item(s)" in out
    batch = out.split("egur memory undo ")[1].strip()
    code, out, _ = run(capsys, "undo", batch, "--db", db)
    assert code == 0
    with MemoryFile(db).session() as store:
        assert len(store.list_entries()) == 2


def test_prune_without_yes_on_a_pipe_refuses(db: str, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "prune", "--db", db, "--min-uses", "1")
    assert code == 1 and "--yes" in err


def test_export_then_import_into_another_file(db: str, tmp_path, capsys) -> None:
    exported = str(tmp_path / "memory.zip")
    assert run(capsys, "export", exported, "--db", db)[0] == 0
    other = str(tmp_path / "other.duckdb")
    code, out, _ = run(capsys, "import", exported, "--db", other)
    assert code == 0 and "imported 2 entries, 1 notes" in out


def test_import_of_a_bad_file_is_one_error_line(db: str, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "egur-memory", "version": 1, "library": [')
    code, _, err = run(capsys, "import", str(bad), "--db", db)
    assert code == 1 and err.startswith("error: cannot import bad.json") and err.count("\n") == 1


def test_undo_and_log(db: str, capsys) -> None:
    code, out, _ = run(capsys, "undo", "3", "--db", db)
    assert code == 0 and "undid op 3" in out
    code, out, _ = run(capsys, "log", "--db", db, "--limit", "2")
    assert code == 0 and "undo" in out and "check twice" in out
    code, _, err = run(capsys, "undo", "3", "--db", db)
    assert code == 1 and "already undone" in err


def test_the_console_command_runs_in_a_subprocess(db: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "egur_core", "memory", "list", "--db", db],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "count objects" in proc.stdout


def test_import_merges_by_default_and_keeps_what_was_there(db: str, tmp_path, capsys) -> None:
    exported = str(tmp_path / "memory.json")
    assert run(capsys, "export", exported, "--db", db)[0] == 0
    other = str(tmp_path / "other.duckdb")
    with MemoryFile(other).session() as store:
        store.apply(AddNote(text="mine, keep it"), "person")
    code, out, _ = run(capsys, "import", exported, "--db", other)
    assert code == 0 and "(merge)" in out
    with MemoryFile(other).session() as store:
        assert "mine, keep it" in set(store.list_notes()["text"]) and len(store.list_entries()) == 2


def test_replace_asks_first_and_a_refusal_changes_nothing(db: str, tmp_path, capsys, monkeypatch) -> None:
    exported = str(tmp_path / "memory.json")
    run(capsys, "export", exported, "--db", db)
    other = str(tmp_path / "other.duckdb")
    with MemoryFile(other).session() as store:
        store.apply(AddNote(text="mine"), "person")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, _, err = run(capsys, "import", exported, "--replace", "--db", other)
    assert code == 1 and "not imported" in err
    with MemoryFile(other).session() as store:
        assert list(store.list_notes()["text"]) == ["mine"] and store.list_entries().empty
    code, out, _ = run(capsys, "import", exported, "--replace", "--yes", "--db", other)
    assert code == 0 and "(replace)" in out
    with MemoryFile(other).session() as store:
        assert list(store.list_notes()["text"]) == ["check twice"]


def test_declining_a_prune_exits_non_zero_and_deletes_nothing(db: str, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    code, _, err = run(capsys, "prune", "--db", db, "--min-uses", "1")
    assert code == 1 and "not pruned" in err
    with MemoryFile(db).session() as store:
        assert len(store.list_entries()) == 2
