"""Run model-written Python in a separate, locked-down process; the only place such code runs.

Host side: a fresh scratch dir, a cleared environment, ``python -I`` in its own session, output
read incrementally and capped, a wall-clock timeout that kills the whole run. The isolation layers
themselves (network namespace, rlimits, throw-away uid, audit hook) are set up inside the child
by :mod:`egur_core.tools.sandbox_boot` before the code starts; see that module for details.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from egur_core.tools import sandbox_procs
from egur_core.tools.base import ToolResult

_BOOT_SOURCE = (Path(__file__).with_name("sandbox_boot.py")).read_text(encoding="utf-8")
_STDERR_KEEP = 64_000
_TAIL_CHARS = 2_000
_LAYER_TAG = "EGUR_SANDBOX_LAYERS "


@dataclass
class _Capture:
    """Bytes from one pipe: keeps the head (stdout) or the tail (stderr, where the exception is)."""

    keep: int
    tail: bool = False
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.tail:
            self.data += chunk
            del self.data[: max(0, len(self.data) - self.keep)]
        elif len(self.data) < self.keep:
            self.data += chunk[: self.keep - len(self.data)]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class _Outcome:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    overflow: bool = False


def _child_env(scratch: str) -> dict[str, str]:
    """A minimal environment: nothing of the host's (keys, proxies) leaks into model code."""
    single = "1"  # thread pools count against the process cap and address space
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": single, "OPENBLAS_NUM_THREADS": single,
            "MKL_NUM_THREADS": single}


def _prepare(code: str, uid: int, timeout: float, memory_mb: int, report_layers: bool) -> tuple[str, list[str]]:
    """Create the scratch dir (owned by the run's uid) holding main.py; return it and the argv."""
    scratch = tempfile.mkdtemp(prefix="egur-sandbox-")
    Path(scratch, "main.py").write_text(code, encoding="utf-8")
    if uid >= 0:
        os.chown(scratch, uid, uid)
    cfg = {"scratch": scratch, "code_file": os.path.join(scratch, "main.py"), "uid": uid,
           "memory_bytes": memory_mb * 1024 * 1024, "cpu_seconds": int(timeout) + 2,
           "fsize_bytes": 64 * 1024 * 1024, "nofile": 256, "nproc": _nproc_limit(uid),
           "report_layers": report_layers, "keep_read": not _interpreter_world_readable()}
    return scratch, [sys.executable, "-I", "-B", "-X", "utf8", "-c", _BOOT_SOURCE, json.dumps(cfg)]


@functools.cache
def _interpreter_world_readable() -> bool:
    """Can a uid without privileges read the interpreter and its import path?

    If not (pyenv under a 0700 /root), the child must keep CAP_DAC_READ_SEARCH to import modules,
    which also lets it read files it otherwise could not; so we only keep it when needed.
    """
    paths = [Path(sys.executable).resolve()] + [Path(p).resolve() for p in sys.path if p and Path(p).exists()]
    for path in paths:
        for part in [path, *path.parents]:
            mode = part.stat().st_mode
            need = stat.S_IXOTH | (stat.S_IROTH if part == path else 0)
            if mode & need != need:
                return False
    return True


def _nproc_limit(uid: int, cap: int = 32) -> int:
    """Process cap: exact with a private uid; otherwise on top of what our uid already runs."""
    if uid >= 0:
        return cap
    mine = sum(1 for p in sandbox_procs.processes() if p.ruid == os.getuid())
    return mine + cap


class _Protocol(asyncio.SubprocessProtocol):
    """Collects both pipes as data arrives (no reader tasks) and signals exit and overflow."""

    def __init__(self, max_output_bytes: int) -> None:
        self.sinks = {1: _Capture(max_output_bytes), 2: _Capture(_STDERR_KEEP, tail=True)}
        self.limit = max_output_bytes
        self.exited, self.overflow, self.closed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        sink = self.sinks[fd]
        sink.add(data)
        if sink.total > self.limit:
            self.overflow.set()

    def process_exited(self) -> None:
        self.exited.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def _first(events: list[asyncio.Event], timeout: float) -> bool:
    """Wait until one of ``events`` is set; False on timeout."""
    tasks = [asyncio.create_task(e.wait()) for e in events]
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return bool(done)


async def _execute(code: str, *, timeout: float, memory_mb: int, max_output_bytes: int,
                   report_layers: bool = False) -> _Outcome:
    uid = sandbox_procs.acquire_uid()
    start, transport, swept, scratch = time.monotonic(), None, False, None
    try:
        scratch, argv = _prepare(code, uid, timeout, memory_mb, report_layers)
        transport, proto = await asyncio.get_running_loop().subprocess_exec(
            lambda: _Protocol(max_output_bytes), *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=scratch, env=_child_env(scratch), start_new_session=True)
        finished = await _first([proto.exited, proto.overflow], timeout)
        # Always sweep: background processes must not outlive the run, finished or not.
        await asyncio.to_thread(sandbox_procs.kill_all, transport.get_pid(), uid)
        swept = True
        await _first([proto.exited], 5.0)
        await _first([proto.closed], 2.0)
        return _Outcome(transport.get_returncode(), proto.sinks[1].text(), proto.sinks[2].text(),
                        time.monotonic() - start, timed_out=not finished, overflow=proto.overflow.is_set())
    finally:
        if transport is not None:
            if not swept:  # cancelled or failed mid-run: the run must still not outlive us
                sandbox_procs.kill_all(transport.get_pid(), uid)
            transport.close()
        if scratch is not None:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        sandbox_procs.release_uid(uid)


def _last_exception_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not line.startswith(_LAYER_TAG)]
    return lines[-1].strip() if lines else ""


def _explain(o: _Outcome, timeout: float, memory_mb: int, max_output_bytes: int) -> str | None:
    """Turn how the process ended into one clear sentence (None when it simply succeeded)."""
    if o.timed_out:
        return f"timed out after {timeout:.1f} s"
    if o.overflow:
        return f"output limit ({max_output_bytes} bytes) exceeded; the program was stopped"
    if o.returncode == 0:
        return None
    last = _last_exception_line(o.stderr)
    if "MemoryError" in last:
        return f"memory limit ({memory_mb} MB) exceeded"
    if o.returncode is not None and o.returncode < 0:
        sig = signal.Signals(-o.returncode).name
        if sig == "SIGXCPU":
            return "CPU time limit exceeded"
        if sig in ("SIGKILL", "SIGSEGV", "SIGBUS", "SIGABRT"):
            return f"killed by {sig} (likely the memory limit ({memory_mb} MB) exceeded)"
        return f"killed by {sig}"
    if "blocked in the sandbox" in last:
        return last.split(": ", 1)[-1]
    return last or f"exited with status {o.returncode}"


def _to_result(o: _Outcome, timeout: float, memory_mb: int, max_output_bytes: int) -> ToolResult:
    error = _explain(o, timeout, memory_mb, max_output_bytes)
    output = o.stdout
    if error and o.stderr.strip() and not o.timed_out:
        output += ("\n" if output and not output.endswith("\n") else "") + "--- stderr (tail) ---\n"
        output += o.stderr[-_TAIL_CHARS:]
    return ToolResult(ok=error is None, output=output, error=error, seconds=round(o.seconds, 3),
                      truncated=o.overflow)


async def run_python_async(code: str, *, timeout: float = 10.0, memory_mb: int = 512,
                           max_output_bytes: int = 1_000_000) -> ToolResult:
    """Run ``code`` in the sandbox without blocking the event loop; never raises for bad code."""
    if not code.strip():
        return ToolResult(ok=False, output="", error="no code to run")
    try:
        outcome = await _execute(code, timeout=timeout, memory_mb=memory_mb, max_output_bytes=max_output_bytes)
    except OSError as exc:  # could not even start the interpreter: an environment problem
        return ToolResult(ok=False, output="", error=f"sandbox could not start: {exc}")
    except Exception as exc:  # noqa: BLE001 - a tool reports failures, it never raises them
        return ToolResult(ok=False, output="", error=f"sandbox failed: {type(exc).__name__}: {exc}")
    return _to_result(outcome, timeout, memory_mb, max_output_bytes)


def _run_sync(coro_factory):
    """Run a coroutine to completion from sync code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro_factory()).result()


def run_python(code: str, *, timeout: float = 10.0, memory_mb: int = 512,
               max_output_bytes: int = 1_000_000) -> ToolResult:
    """Blocking form of :func:`run_python_async` for scripts and tests."""
    return _run_sync(lambda: run_python_async(code, timeout=timeout, memory_mb=memory_mb,
                                              max_output_bytes=max_output_bytes))


def isolation_layers() -> dict[str, str]:
    """Which isolation layers the child managed to apply on this machine (for diagnostics)."""
    async def probe() -> dict[str, str]:
        o = await _execute("pass", timeout=10.0, memory_mb=256, max_output_bytes=10_000, report_layers=True)
        line = next((x for x in o.stderr.splitlines() if x.startswith(_LAYER_TAG)), _LAYER_TAG + "{}")
        return {**json.loads(line[len(_LAYER_TAG):]), "audit_hook": "on"}
    return _run_sync(probe)
