"""Opening a memory file so the CLI and a running dashboard can share it.

DuckDB lets one process at a time open a file (even read-only): a second one fails at once with
"Could not set lock on file ... Conflicting lock is held in <exe> (PID n)". So nobody holds the
file while idle: work happens in short sessions,

    memory = MemoryFile("egur.duckdb")
    with memory.session() as store:
        store.apply(op, actor="person")

and the file is closed when the last session of this process ends. Opening retries with backoff
while another process holds the lock; after ``wait_s`` it raises :class:`MemoryFileBusy` naming
that process. Within one process, sessions from any number of threads share one connection
(ref-counted); the store gives each thread its own cursor, so threads never lock each other out.
Hold a session per unit of work (a problem, a page render), not for a whole run.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from egur_core.memory.base import Embed
from egur_core.memory.embedding import local_embedding
from egur_core.memory.store import MemoryStore

DUCKDB_THREADS = 1
"""The memory's statements are small (a row written, a few hundred read): handing each to DuckDB's worker
threads cost more than they save. One thread made the loop's orchestration overhead per problem 20-30 %
smaller on 2 cores, and retrieval at 100,000 entries no slower (``perf/bench_loop.py``,
``perf/bench_retrieval.py``). Set once connected, not as connection config: DuckDB refuses a second
connection to the file from this process (a script's, a test's) whose config differs."""
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


class MemoryFileError(RuntimeError):
    """The memory file cannot be used right now; the message says why and what to do."""


class MemoryFileBusy(MemoryFileError):
    """Another process kept the memory file locked for longer than we were willing to wait."""

    def __init__(self, path: str, pid: int | None, command: str | None, waited_s: float):
        self.path, self.pid, self.command, self.waited_s = path, pid, command, waited_s
        who = f"process {pid} ({command})" if pid else "another process"
        super().__init__(
            f"memory file {path} is in use by {who}; waited {waited_s:.0f}s. "
            f"Stop that program (a dashboard or another `egur` command), or point --db at another file, "
            f"then try again.")


class MemoryFileCorrupt(MemoryFileError):
    """The file is not a usable EGuR memory: empty, truncated, damaged, or another kind of file."""

    def __init__(self, path: str, what: str):
        self.path = path
        super().__init__(
            f"memory file {path} cannot be used: {what}. Nothing was changed. To recover, restore a backup, or "
            f"import an export into a new file (egur memory import EXPORT.json --db NEW.duckdb)")


_SIGNATURES = ((b"SQLite format 3", "an SQLite database"), (b"PK\x03\x04", "a zip archive (an export? import it)"),
               (b"PAR1", "a Parquet file"), (b"{", "a JSON file (an export? import it)"), (b"[", "a JSON file"))


def describe_file(path: str, reason: str) -> str:
    """What a file that DuckDB refused (saying ``reason``) seems to be, for the one-line message."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
        size = os.path.getsize(path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if size == 0:
        return "the file is empty (0 bytes)"
    if head[8:12] == b"DUCK":
        detail = " ".join(reason.split())[:200]
        return f"a DuckDB file that is truncated, damaged or from another DuckDB version ({size:,} bytes: {detail})"
    kind = next((name for magic, name in _SIGNATURES if head.lstrip().startswith(magic)), None)
    return f"it is {kind}, not a DuckDB memory" if kind else f"it is not a DuckDB database ({size:,} bytes)"


def _refuse_foreign(path: str, con: duckdb.DuckDBPyConnection) -> None:
    """A DuckDB database of another program is not migrated into a memory (that would change it)."""
    tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if tables and "schema_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise MemoryFileCorrupt(path, f"it is a DuckDB database of another program (tables {shown}), not a memory")


def keep_private(path: str, *, created: bool = False) -> None:
    """Memory files hold gold answers and traces: owner-only (0600) when we create one, and its write-ahead
    log always (DuckDB creates that with the default mode)."""
    for name in ((path,) if created else ()) + (f"{path}.wal",):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            pass


def lock_holder(message: str) -> tuple[int | None, str | None]:
    """PID and command line of the process DuckDB says holds the lock (command from /proc if readable)."""
    match = _LOCK_HOLDER.search(message)
    if not match:
        return None, None
    pid, command = int(match["pid"]), match["exe"]
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or command
    except OSError:
        pass
    return pid, command


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


@dataclass
class _Shared:
    """One open connection per file per process, shared by every session in it."""

    con: duckdb.DuckDBPyConnection
    refs: int = 0
    write_lock: threading.RLock = field(default_factory=threading.RLock)
    root_lock: threading.Lock = field(default_factory=threading.Lock)  # the connection refuses two calls at once
    closer: threading.Timer | None = None  # pending close while the file lingers open


_OPEN: dict[str, _Shared] = {}
_OPEN_LOCK = threading.Lock()


class MemoryFile:
    """A memory database on disk, opened only for the duration of each ``session()``."""

    def __init__(
        self, path: str | Path, wait_s: float = 30.0, embed: Embed = local_embedding, *,
        max_entries: int = 500, max_notes: int = 200, linger_s: float = 0.5,
    ) -> None:
        self.path = str(Path(path).expanduser().resolve())
        self.wait_s = wait_s
        self.linger_s = linger_s
        self._embed, self._caps = embed, (max_entries, max_notes)
        self._store: MemoryStore | None = None
        self._store_lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[MemoryStore]:
        """Open (waiting while another process holds the file), yield the store, release.

        Raises :class:`MemoryFileBusy` or :class:`MemoryFileCorrupt`, each with a message for a person."""
        shared = self._acquire()
        try:
            try:
                store = self._store_for(shared)
            except duckdb.Error as exc:  # opened, but its tables cannot be read or migrated
                raise MemoryFileCorrupt(self.path, describe_file(self.path, str(exc))) from None
            yield store
        finally:
            self._release(shared)

    def _store_for(self, shared: _Shared) -> MemoryStore:
        with self._store_lock:
            if self._store is None or self._store._root is not shared.con:
                with shared.root_lock:
                    _refuse_foreign(self.path, shared.con)
                self._store = MemoryStore(shared.con, self._embed, max_entries=self._caps[0], max_notes=self._caps[1],
                                          write_lock=shared.write_lock, root_lock=shared.root_lock)
            return self._store

    def _acquire(self) -> _Shared:
        with _OPEN_LOCK:
            shared = _OPEN.get(self.path)
            if shared is None:
                shared = _OPEN[self.path] = _Shared(self._connect())
            if shared.closer is not None:
                shared.closer.cancel()
                shared.closer = None
            shared.refs += 1
            return shared

    def _release(self, shared: _Shared) -> None:
        """The last session out closes the file, after ``linger_s`` without a new session.

        Back-to-back sessions (the loop's phases of one problem, a page's queries) then share one
        open, which costs tens of milliseconds; an idle process still lets go within a second."""
        with _OPEN_LOCK:
            shared.refs -= 1
            keep_private(self.path)
            if shared.refs:
                return
            if self.linger_s <= 0 or self._others_waiting():
                self._close(shared)
                return
            shared.closer = threading.Timer(self.linger_s, self._close_if_idle, args=(shared,))
            shared.closer.daemon = True
            shared.closer.start()

    def _wait_marker(self) -> Path:
        return Path(f"{self.path}.wait-{os.getpid()}")

    def _others_waiting(self) -> bool:
        """Another process left a marker saying it waits for this file: let go now, don't linger.

        This is what keeps two lingering processes (a dashboard polling, a CLI run) from starving
        each other: DuckDB's lock has no queue, so the waiter asks through the file system."""
        for marker in Path(self.path).parent.glob(Path(self.path).name + ".wait-*"):
            pid = marker.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                os.kill(int(pid), 0)
                return True
            except ProcessLookupError:
                marker.unlink(missing_ok=True)  # left behind by a process that died waiting
            except PermissionError:
                return True
        return False

    def _close_if_idle(self, shared: _Shared) -> None:
        with _OPEN_LOCK:
            if shared.refs == 0 and _OPEN.get(self.path) is shared:
                self._close(shared)

    def _close(self, shared: _Shared) -> None:
        """Close now (caller holds ``_OPEN_LOCK``)."""
        if shared.closer is not None:
            shared.closer.cancel()
            shared.closer = None
        del _OPEN[self.path]
        with self._store_lock:
            if self._store is not None and self._store._root is shared.con:
                self._store.close()
                self._store = None
        shared.con.close()


    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Connect, retrying with capped exponential backoff while the file is locked elsewhere."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        start, delay = time.monotonic(), 0.05
        marker = self._wait_marker()
        try:
            while True:
                try:
                    created = not os.path.exists(self.path)
                    con = duckdb.connect(self.path)
                    con.execute(f"SET threads = {DUCKDB_THREADS}")
                    keep_private(self.path, created=created)
                    return con
                except duckdb.Error as exc:
                    if not is_lock_error(exc):
                        raise MemoryFileCorrupt(self.path, describe_file(self.path, str(exc))) from None
                    marker.touch()
                    waited = time.monotonic() - start
                    if waited >= self.wait_s:
                        pid, command = lock_holder(str(exc))
                        raise MemoryFileBusy(self.path, pid, command, waited) from None
                    time.sleep(min(delay, max(self.wait_s - waited, 0.01)))
                    delay = min(delay * 2, 0.5)
        finally:
            marker.unlink(missing_ok=True)


def close_idle_files() -> None:
    """Close every lingering file now (at exit, or before handing a file to another process)."""
    with _OPEN_LOCK:
        for path, shared in list(_OPEN.items()):
            if shared.refs == 0:
                if shared.closer is not None:
                    shared.closer.cancel()
                del _OPEN[path]
                shared.con.close()


atexit.register(close_idle_files)
