"""No input brings a traceback: every command on a broken memory file says what it is and how to recover."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from egur_core.cli import main
from egur_core.memory.database import MemoryFile, close_idle_files
from egur_core.memory.ops import AddNote

pytestmark = pytest.mark.timeout(300)

COMMANDS = [
    ["memory", "list"], ["memory", "list", "--notes"], ["memory", "show", "1"],
    ["memory", "prune", "--min-uses", "1", "--dry-run"], ["memory", "export", "{tmp}/out.json"],
    ["memory", "import", "{tmp}/good-export.json"], ["memory", "undo", "1"], ["memory", "log"],
    ["run", "--benchmark", "sat3", "--n", "1", "--k", "1", "--quiet"],
    ["bench", "--benchmark", "sat3", "--n", "1", "--methods", "cot", "--quiet"],
    ["report", "run-1", "--out", "{tmp}/r.html"], ["cache", "stats"], ["cache", "clear"],
]


def _real_memory(path: Path) -> None:
    memory = MemoryFile(path, linger_s=0)
    with memory.session() as store:
        for i in range(50):
            store.apply(AddNote(text=f"note {i}: " + "check parity first " * 20), actor="person")
        store.checkpoint()
    close_idle_files()


def _make(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.duckdb"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(os.urandom(8192))
    elif kind == "foreign":
        path.write_bytes(b"SQLite format 3\x00" + bytes(4096))
    elif kind == "truncated":
        _real_memory(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    return path


@pytest.fixture(scope="module")
def broken_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("broken")
    good = folder / "good.duckdb"
    _real_memory(good)
    with MemoryFile(good, linger_s=0).session() as store:
        store.export_memory(folder / "good-export.json")
    close_idle_files()
    return {kind: _make(kind, folder) for kind in ("empty", "corrupt", "foreign", "truncated")}


@pytest.mark.parametrize("kind", ["empty", "corrupt", "foreign", "truncated"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_every_command_on_a_broken_memory_file_prints_one_line_with_a_recovery_hint(
        broken_files, kind, command, capsys):
    path = broken_files[kind]
    before = path.read_bytes()
    argv = [part.replace("{tmp}", str(path.parent)) for part in command] + ["--db", str(path)]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert code != 0 and len(errors) == 1, err
    assert "restore a backup" in errors[0] and str(path) in errors[0]
    assert path.read_bytes() == before  # nothing was changed


def test_the_real_console_command_on_a_corrupt_file_shows_no_traceback(broken_files):
    done = subprocess.run([sys.executable, "-m", "egur_core.cli", "memory", "list", "--db",
                           str(broken_files["corrupt"])], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: memory file") and len(done.stderr.strip().splitlines()) == 1


@pytest.fixture
def usual_umask():
    """The usual default (files world-readable unless made private on purpose), restored afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_memory_file_and_an_export_are_private_to_the_owner(tmp_path, usual_umask):
    _real_memory(tmp_path / "m.duckdb")
    with MemoryFile(tmp_path / "m.duckdb", linger_s=0).session() as store:
        store.export_memory(tmp_path / "e.json")
        store.export_memory(tmp_path / "e.zip")
    close_idle_files()
    for name in ("m.duckdb", "e.json", "e.zip"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
