from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from egur_core.memory.database import MemoryFile, MemoryFileBusy, lock_holder
from egur_core.memory.ops import AddNote

HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "memory.duckdb")


def hold(path: str, seconds: float) -> subprocess.Popen:
    """Another process that keeps the file open for ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, path, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_session_waits_for_another_process_then_succeeds(db_path: str) -> None:
    holder = hold(db_path, 1.5)
    start = time.monotonic()
    with MemoryFile(db_path, wait_s=20).session() as store:
        store.apply(AddNote(text="written after the wait"), actor="person")
    assert time.monotonic() - start > 0.5
    holder.wait(timeout=10)


def test_busy_file_names_the_holding_process(db_path: str) -> None:
    holder = hold(db_path, 60)
    try:
        with pytest.raises(MemoryFileBusy) as info:
            with MemoryFile(db_path, wait_s=0.5).session():
                pass
        assert info.value.pid == holder.pid
        assert f"process {holder.pid}" in str(info.value) and "import sys, time, duckdb" in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def other_process_can_open(db_path: str, retry_s: float) -> subprocess.CompletedProcess:
    code = ("import duckdb, sys, time\nend = time.monotonic() + float(sys.argv[2])\nwhile True:\n"
            "    try:\n        duckdb.connect(sys.argv[1]).close(); break\n    except duckdb.IOException:\n"
            "        if time.monotonic() > end: raise\n        time.sleep(0.05)\n")
    return subprocess.run([sys.executable, "-c", code, db_path, str(retry_s)], capture_output=True, text=True,
                          timeout=30)


def test_the_file_is_released_at_once_without_linger(db_path: str) -> None:
    with MemoryFile(db_path, linger_s=0).session() as store:
        store.apply(AddNote(text="x"), actor="person")
    other = other_process_can_open(db_path, retry_s=0)
    assert other.returncode == 0, other.stderr


def test_the_file_is_released_shortly_after_the_last_session_ends(db_path: str) -> None:
    with MemoryFile(db_path, linger_s=0.3).session() as store:
        store.apply(AddNote(text="x"), actor="person")
    other = other_process_can_open(db_path, retry_s=5)
    assert other.returncode == 0, other.stderr


def test_back_to_back_sessions_reuse_one_connection(db_path: str) -> None:
    memory = MemoryFile(db_path, linger_s=5)
    with memory.session() as first:
        pass
    with memory.session() as second:
        assert second is first


def test_threads_share_one_file_without_locking_each_other_out(db_path: str) -> None:
    memory = MemoryFile(db_path, wait_s=1)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                with memory.session() as store:
                    store.apply(AddNote(text=f"thread {i} note {j}"), actor="consolidator")
                    store.retrieve(f"thread {i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with memory.session() as store:
        assert len(store.list_notes()) == 30


def test_separate_handles_on_one_file_open_it_from_many_threads_at_once(db_path: str) -> None:
    """The dashboard's page thread and its run thread each open the file through their own ``MemoryFile``;
    they share one DuckDB connection, which refuses a second call while busy instead of waiting."""
    rounds, width = 10, 6
    barrier = threading.Barrier(width)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                barrier.wait(timeout=30)
                with MemoryFile(db_path, linger_s=0).session() as store:
                    store.query("SELECT count(*) FROM runs")
        except BaseException as exc:  # noqa: BLE001  collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(width)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


def test_lock_holder_parses_duckdbs_message() -> None:
    message = ('IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in '
               '/usr/bin/python3 (PID 999999999). See also https://duckdb.org/docs')
    assert lock_holder(message) == (999999999, "/usr/bin/python3")


def test_a_lingering_process_lets_go_when_another_one_waits(db_path: str) -> None:
    code = ("import sys, time\nfrom egur_core.memory.database import MemoryFile\n"
            "m = MemoryFile(sys.argv[1], linger_s=30)\nend = time.monotonic() + 20\n"
            "while time.monotonic() < end:\n    with m.session() as s:\n        s.list_runs()\n"
            "    time.sleep(0.1)\n")
    busy = subprocess.Popen([sys.executable, "-c", code, db_path])
    try:
        time.sleep(1.5)  # let it open the file and start lingering
        started = time.monotonic()
        with MemoryFile(db_path, wait_s=10, linger_s=0).session() as store:
            store.apply(AddNote(text="got in"), actor="person")
        assert time.monotonic() - started < 5
    finally:
        busy.kill()
        busy.wait()


def test_a_memory_file_runs_its_statements_on_one_duckdb_thread(db_path: str) -> None:
    with MemoryFile(db_path).session() as store:
        assert store.scalar("SELECT current_setting('threads')") == 1


def test_a_plain_duckdb_connection_to_an_open_memory_file_still_opens(db_path: str) -> None:
    import duckdb

    with MemoryFile(db_path).session() as store:
        store.apply(AddNote(text="a note"), actor="person")
        with duckdb.connect(db_path) as other:
            assert other.execute("SELECT count(*) FROM notes").fetchone()[0] == 1
