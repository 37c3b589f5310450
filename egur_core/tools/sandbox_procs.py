"""Host-side bookkeeping for the sandbox's unsafe mode: a throw-away uid, a scratch dir, killing leftovers.

Everything reads ``/proc`` directly (no psutil) so it works on a bare Linux and in tests.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_UID_LOW, _UID_HIGH = 2_000_000, 2_900_000
_uids_in_use: set[int] = set()
_uid_lock = threading.Lock()


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    state: str
    pgid: int
    session: int
    ruid: int


def _mapped_uid_range() -> tuple[int, int]:
    """The uid range we may switch to: inside a user namespace only mapped uids are valid."""
    try:
        rows = [line.split() for line in Path("/proc/self/uid_map").read_text().splitlines()]
        spans = [(int(inside), int(inside) + int(count)) for inside, _, count in rows]
    except (OSError, ValueError):
        return (_UID_LOW, _UID_HIGH)
    for lo, hi in spans:
        if lo <= _UID_LOW and hi >= _UID_HIGH:
            return (_UID_LOW, _UID_HIGH)
    lo, hi = max(spans, key=lambda s: s[1] - s[0], default=(0, 0))
    return (max(lo, 50_000), min(hi, 60_000))  # small user namespaces: a band ordinary users rarely use


def acquire_uid() -> int:
    """A uid no other live sandbox run uses, or -1 if we are not root (then no uid switch happens).

    One uid per run makes RLIMIT_NPROC a per-run process cap and lets cleanup find every process
    the run created, even ones that left the process group with ``setsid``.
    """
    if os.geteuid() != 0:
        return -1
    lo, hi = _mapped_uid_range()
    if hi <= lo:
        return -1
    with _uid_lock:
        while True:
            uid = random.randrange(lo, hi)
            if uid not in _uids_in_use:
                _uids_in_use.add(uid)
                return uid


def release_uid(uid: int) -> None:
    with _uid_lock:
        _uids_in_use.discard(uid)


def processes() -> list[ProcInfo]:
    """Snapshot of live processes; ones that vanish while we read are skipped."""
    found: list[ProcInfo] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # comm may contain spaces and parentheses
        ruid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:")), -1)
        found.append(ProcInfo(int(entry), fields[0], int(fields[2]), int(fields[3]), ruid))
    return found


def members(session: int, uid: int) -> list[int]:
    """Live (non-zombie) pids of a sandbox run: its session/process group, or its private uid."""
    me = os.getpid()

    def belongs(p: ProcInfo) -> bool:
        return p.session == session or p.pgid == session or (uid >= 0 and p.ruid == uid)

    return [p.pid for p in processes() if p.state != "Z" and p.pid != me and belongs(p)]


def kill_all(session: int, uid: int, *, rounds: int = 200) -> int:
    """SIGKILL the run's process group, then every remaining member until none is left.

    Repeats because a process may fork between the scan and the kill; the process cap keeps
    the number of rounds small. Returns how many processes still lived after the last round.
    """
    try:
        os.killpg(session, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    left: list[int] = []
    for _ in range(rounds):
        left = members(session, uid)
        if not left:
            return 0
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)
    return len(left)


def make_scratch(uid: int) -> str:
    """A fresh scratch directory on the host (unsafe mode), owned by the run's uid."""
    scratch = tempfile.mkdtemp(prefix="egur-sandbox-")
    if uid >= 0:
        os.chown(scratch, uid, uid)
    return scratch


def remove_scratch(scratch: str, uid: int) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    release_uid(uid)


@functools.cache
def interpreter_world_readable() -> bool:
    """Can a uid without privileges read the interpreter and its import path?

    If not (pyenv under a 0700 /root), the unsafe-mode child must keep CAP_DAC_READ_SEARCH to
    import modules, which also lets it read files it otherwise could not.
    """
    paths = [Path(sys.executable).resolve()] + [Path(p).resolve() for p in sys.path if p and Path(p).exists()]
    for path in paths:
        for part in [path, *path.parents]:
            mode = part.stat().st_mode
            need = stat.S_IXOTH | (stat.S_IROTH if part == path else 0)
            if mode & need != need:
                return False
    return True


def nproc_limit(uid: int, cap: int = 32) -> int:
    """Process cap: exact with a private uid; otherwise on top of what our uid already runs."""
    if uid >= 0:
        return cap
    mine = sum(1 for p in processes() if p.ruid == os.getuid())
    return mine + cap
