"""Who runs a run: one lease file per run next to the memory file, locked by the process running it.

A memory file is shared by processes that hold it only for short sessions (``memory/database.py``),
so ``runs.status = 'running'`` alone cannot say whether anyone is still running the run: a killed
CLI leaves it "running" for ever, and a dashboard would offer to resume a run that the CLI is
executing (two processes then write the same problems). So the process that runs a run holds an
exclusive ``flock`` on ``<memory file>.owners/<run_id>.lease`` for as long as it runs it. The kernel
drops the lock when the process dies, however it dies, so liveness needs no heartbeat and no clock:
a lock that can be taken means nobody runs the run. The file's text says who held it (pid, kind,
command, since) for messages.

A ``running`` run whose lease file exists but is not held was interrupted: its owner died (a run
that ends is marked finished, stopped or failed before its lease is let go). A ``running`` run with
no lease file at all is interrupted once it has been quiet for ``QUIET_S`` (a run is created a
moment before its lease is taken, and older files and scripts that run the loop without leases
still count as alive while they write). :func:`mark_if_interrupted` records that as ``failed`` with
an ``interrupted:`` error, which the dashboard and ``egur runs`` show and Resume clears.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from egur_core.memory.records import utcnow
from egur_core.memory.store import MemoryStore

QUIET_S = 90.0
"""A running run with no live owner and no write for this long was interrupted (killed, crashed)."""

INTERRUPTED = "interrupted"

OwnerKind = Literal["dashboard", "cli", "bench", "script"]
Liveness = Literal["here", "elsewhere", "starting", "interrupted", "ended"]


class RunOwnedElsewhere(RuntimeError):
    """Another live process runs this run: resuming it too would write the same problems twice."""

    def __init__(self, run_id: str, owner: Owner):
        self.run_id, self.owner = run_id, owner
        super().__init__(f"run {run_id} is being run by {owner.describe()}; stop it there, or wait for it to end")


class Owner(BaseModel):
    """What the lease file says about the process holding it."""

    pid: int
    host: str
    kind: str
    command: str = ""
    since: float = 0.0

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        started = datetime.fromtimestamp(self.since).strftime("%H:%M:%S") if self.since else "?"
        return f"the {self.kind} (process {self.pid}{where}, since {started})"


def lease_dir(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).expanduser().resolve()}.owners")


def _lease_path(db_path: str | Path, run_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_.:" else "_" for c in run_id)
    return lease_dir(db_path) / f"{safe}.lease"


class RunLease:
    """An exclusive claim on one run, held until :meth:`release` (or until the process dies)."""

    def __init__(self, db_path: str | Path, run_id: str, kind: OwnerKind):
        self.run_id, self.path = run_id, _lease_path(db_path, run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunOwnedElsewhere(run_id, read_owner(db_path, run_id) or _unknown_owner()) from None
        me = Owner(pid=os.getpid(), host=socket.gethostname(), kind=kind, command=" ".join(sys.argv)[:300],
                   since=time.time())
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.model_dump_json().encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Let go; the file stays (its text is harmless) so a concurrent claimant never races an unlink."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _unknown_owner() -> Owner:
    return Owner(pid=0, host=socket.gethostname(), kind="another process")


def read_owner(db_path: str | Path, run_id: str) -> Owner | None:
    """The live owner of a run, or None when nobody holds its lease."""
    path = _lease_path(db_path, run_id)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: alive
            text = os.pread(fd, 4096, 0).decode(errors="replace")
            try:
                return Owner.model_validate_json(text)
            except ValueError:
                return _unknown_owner()
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunLeases:
    """The leases this process holds, by (memory file, run id): how a process knows a run is its own."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], RunLease] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(db_path: str | Path, run_id: str) -> tuple[str, str]:
        return str(Path(db_path).expanduser().resolve()), run_id

    def claim(self, db_path: str | Path, run_id: str, kind: OwnerKind) -> RunLease:
        """Take the run's lease; :class:`RunOwnedElsewhere` if another live process (or job) holds it."""
        key = self._key(db_path, run_id)
        with self._lock:
            if key in self._held:
                me = read_owner(db_path, run_id) or _unknown_owner()
                raise RunOwnedElsewhere(run_id, me.model_copy(update={"kind": f"{me.kind} (this process)"}))
            lease = self._held[key] = RunLease(db_path, run_id, kind)
            return lease

    def release(self, db_path: str | Path, run_id: str) -> None:
        with self._lock:
            lease = self._held.pop(self._key(db_path, run_id), None)
        if lease is not None:
            lease.release()

    def holds(self, db_path: str | Path, run_id: str) -> bool:
        with self._lock:
            return self._key(db_path, run_id) in self._held


_LEASES = RunLeases()


def process_leases() -> RunLeases:
    """This process's leases (the dashboard's jobs and the CLI share the idea, not the object)."""
    return _LEASES


def liveness(store: MemoryStore, db_path: str | Path, run: dict[str, Any],
             leases: RunLeases | None = None) -> tuple[Liveness, Owner | None]:
    """Is anyone running ``run`` (a ``get_run`` row) now, and who?"""
    if run["status"] != "running":
        return "ended", None
    if (leases or _LEASES).holds(db_path, run["run_id"]):
        return "here", read_owner(db_path, run["run_id"])
    owner = read_owner(db_path, run["run_id"])
    if owner is not None:
        return ("here" if owner.pid == os.getpid() and owner.host == socket.gethostname() else "elsewhere"), owner
    if _lease_path(db_path, run["run_id"]).exists():  # someone ran it and let go without ending it: it died
        return "interrupted", None
    return ("starting" if quiet_for(store, run["run_id"]) < QUIET_S else "interrupted"), None


def quiet_for(store: MemoryStore, run_id: str) -> float:
    """Seconds since the run last wrote anything (created, a problem started or finished)."""
    last = store.scalar(
        "SELECT greatest(max(r.created_at), max(p.started_at), max(p.finished_at)) FROM runs r "
        "LEFT JOIN problems p USING (run_id) WHERE r.run_id = ?", [run_id])
    return (utcnow() - last).total_seconds() if last is not None else float("inf")


def mark_if_interrupted(store: MemoryStore, db_path: str | Path, run: dict[str, Any],
                        leases: RunLeases | None = None) -> tuple[Liveness, Owner | None, dict[str, Any]]:
    """Classify the run; a run nobody runs any more is marked ``failed`` (``interrupted: ...``).

    Returns the liveness, the owner, and the (possibly updated) run row."""
    state, owner = liveness(store, db_path, run, leases)
    if state == "interrupted":
        done = store.scalar("SELECT count(*) FROM problems WHERE run_id = ? AND finished_at IS NOT NULL",
                            [run["run_id"]])
        message = (f"{INTERRUPTED}: the process running it ended without finishing (killed or crashed) after "
                   f"{done} problem(s); Resume continues from there")
        store.set_run_status(run["run_id"], "failed", message)
        run = {**run, "status": "failed", "error": message}
    return state, owner, run


def reap_interrupted(store: MemoryStore, db_path: str | Path, leases: RunLeases | None = None) -> list[str]:
    """Mark every interrupted run of the file (``egur runs``, the Run page's empty state); returns their ids."""
    marked = []
    for run in store.query("SELECT run_id, status FROM runs WHERE status = 'running'"):
        state, _, _ = mark_if_interrupted(store, db_path, run, leases)
        if state == "interrupted":
            marked.append(run["run_id"])
    return marked


class LeaseEvents:
    """A loop ``on_event`` listener that holds each run's lease from ``run_started`` to ``run_finished``.

    For callers that do not create the runs themselves (``run_bench`` starts one run per method and
    seed): every run they start is owned by this process while it goes."""

    def __init__(self, db_path: str | Path, kind: OwnerKind, leases: RunLeases | None = None):
        self.db_path, self.kind, self.leases = db_path, kind, leases or _LEASES
        self._mine: set[str] = set()

    def __call__(self, event: Any) -> None:
        if event.kind == "run_started" and event.run_id not in self._mine:
            self.leases.claim(self.db_path, event.run_id, self.kind)
            self._mine.add(event.run_id)
        elif event.kind == "run_finished" and event.run_id in self._mine:
            self.release(event.run_id)

    def release(self, run_id: str | None = None) -> None:
        """Let go of one run's lease, or of all of them (when the caller ends, whatever happened)."""
        for rid in [run_id] if run_id else list(self._mine):
            self._mine.discard(rid)
            self.leases.release(self.db_path, rid)
