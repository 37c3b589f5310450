"""Run model-written Python in a separate, locked-down process; the only place such code runs.

The boundary is the kernel (``kernel`` mode): bubblewrap puts each run in fresh namespaces that
show only the interpreter read-only and a scratch tmpfs, with no capabilities and a seccomp
filter (``sandbox_bwrap.py``, ``sandbox_seccomp.py``); the bootstrap adds rlimits and an audit hook
as a second line (``sandbox_boot.py``). The host feeds the program on stdin, reads output
incrementally and capped, and SIGKILLs the whole tree at the wall-clock deadline: killing
bubblewrap ends its pid namespace, so nothing the program started outlives the run.

Where the host cannot give namespaces, code steps are refused (``refused`` mode) unless the user
opts in with ``EGUR_UNSAFE_SANDBOX=1`` or ``egur --unsafe-sandbox`` (``unsafe`` mode: rlimits, a
throw-away uid when root, a best-effort network namespace and the audit hook, all from inside the
child). :func:`sandbox_notice` is the banner every screen shows in those two modes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from egur_core.tools import sandbox_procs
from egur_core.tools.base import ToolResult
from egur_core.tools.sandbox_boot import decode_config, encode_config
from egur_core.tools.sandbox_bwrap import SCRATCH, bwrap_problem, launch_argv, process_cap_note, python_paths
from egur_core.tools.sandbox_io import Outcome, RunProtocol, first
from egur_core.tools.sandbox_policy import (  # noqa: F401  (the public API lives here)
    UNSAFE_ENV,
    SandboxMode,
    allow_unsafe_sandbox,
    refusal_message,
    sandbox_mode,
    sandbox_notice,
    unsafe_requested,
)
from egur_core.tools.sandbox_seccomp import program_fd, seccomp_program

_BOOT_SOURCE = (Path(__file__).with_name("sandbox_boot.py")).read_text(encoding="utf-8")
_TAIL_CHARS = 2_000
_LAYER_TAG = "EGUR_SANDBOX_LAYERS "
@dataclass
class _Launch:
    """How one run starts and what must be cleaned up after it."""

    argv: list[str]
    cwd: str
    scratch: str
    kernel: bool
    uid: int = -1
    pass_fds: tuple[int, ...] = ()
    own_fds: tuple[int, ...] = ()  # opened for this run only: closed once the child has them


def _child_env(scratch: str) -> dict[str, str]:
    """A minimal environment: nothing of the host's (keys, proxies) leaks into model code."""
    single = "1"  # thread pools count against the process cap and address space
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": single, "OPENBLAS_NUM_THREADS": single,
            "MKL_NUM_THREADS": single}


def _boot_command(cfg: dict) -> list[str]:
    return [os.path.abspath(sys.executable), "-I", "-S", "-B", "-X", "utf8", "-c", _BOOT_SOURCE, encode_config(cfg)]


def _limits(timeout: float, memory_mb: int, report_layers: bool) -> dict:
    return {"memory_bytes": memory_mb * 1024 * 1024, "cpu_seconds": int(timeout) + 2,
            "fsize_bytes": 64 * 1024 * 1024, "nofile": 256, "nproc": 32, "path": list(python_paths()[1]),
            "report_layers": report_layers}


def _kernel_launch(limits: dict) -> _Launch:
    """bubblewrap as a throw-away uid when we are root: a root-owned sandbox would be exempt from the
    process cap (the kernel never applies RLIMIT_NPROC to uid 0) and own every file it is shown."""
    cfg = {**limits, "mode": "kernel", "scratch": SCRATCH}
    program, _ = seccomp_program()
    fd = program_fd(program) if program is not None else None
    uid = sandbox_procs.acquire_uid()
    fds = (fd,) if fd is not None else ()
    return _Launch(launch_argv(_boot_command(cfg), uid, fd), "/", SCRATCH, True, uid=uid, pass_fds=fds, own_fds=fds)


def _unsafe_launch(limits: dict) -> _Launch:
    uid = sandbox_procs.acquire_uid()
    scratch = sandbox_procs.make_scratch(uid)
    cfg = {**limits, "mode": "unsafe", "scratch": scratch, "uid": uid, "nproc": sandbox_procs.nproc_limit(uid),
           "keep_read": not sandbox_procs.interpreter_world_readable()}
    return _Launch(_boot_command(cfg), scratch, scratch, False, uid=uid)


def _kill(launch: _Launch, pid: int) -> None:
    """Kernel mode: SIGKILL bubblewrap's group; its pid namespace takes every descendant with it.
    Unsafe mode: sweep the session and the throw-away uid until nothing of the run is left."""
    if launch.kernel:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        sandbox_procs.kill_all(pid, launch.uid)


async def _execute(code: str, *, mode: SandboxMode, timeout: float, memory_mb: int, max_output_bytes: int,
                   report_layers: bool = False) -> Outcome:
    limits = _limits(timeout, memory_mb, report_layers)
    launch = _kernel_launch(limits) if mode == "kernel" else _unsafe_launch(limits)
    start, transport, killed = time.monotonic(), None, False
    try:
        transport, proto = await asyncio.get_running_loop().subprocess_exec(
            lambda: RunProtocol(max_output_bytes), *launch.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=launch.cwd, env=_child_env(launch.scratch), start_new_session=True,
            pass_fds=launch.pass_fds)
        for fd in launch.own_fds:
            os.close(fd)
        launch.own_fds = ()
        stdin = transport.get_pipe_transport(0)
        stdin.write(code.encode("utf-8", errors="surrogatepass"))
        stdin.close()
        finished = await first([proto.exited, proto.overflow], timeout)
        await asyncio.to_thread(_kill, launch, transport.get_pid())  # finished or not: nothing may outlive it
        killed = True
        await first([proto.exited], 5.0)
        await first([proto.closed], 2.0)
        return Outcome(transport.get_returncode(), proto.sinks[1].text(), proto.sinks[2].text(),
                        time.monotonic() - start, timed_out=not finished, overflow=proto.overflow.is_set())
    finally:
        for fd in launch.own_fds:
            os.close(fd)
        if transport is not None:
            if not killed:  # cancelled or failed mid-run: the run must still not outlive us
                _kill(launch, transport.get_pid())
            transport.close()
        if launch.kernel:
            sandbox_procs.release_uid(launch.uid)
        else:
            await asyncio.to_thread(sandbox_procs.remove_scratch, launch.scratch, launch.uid)


def _last_exception_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not line.startswith(_LAYER_TAG)]
    return lines[-1].strip() if lines else ""


def _explain(o: Outcome, timeout: float, memory_mb: int, max_output_bytes: int) -> str | None:
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


def _to_result(o: Outcome, timeout: float, memory_mb: int, max_output_bytes: int) -> ToolResult:
    error = _explain(o, timeout, memory_mb, max_output_bytes)
    output = o.stdout
    if error and o.stderr.strip() and not o.timed_out:
        output += ("\n" if output and not output.endswith("\n") else "") + "--- stderr (tail) ---\n"
        output += o.stderr[-_TAIL_CHARS:]
    return ToolResult(ok=error is None, output=output, error=error, seconds=round(o.seconds, 3),
                      truncated=o.overflow)


async def _run(code: str, mode: SandboxMode, timeout: float, memory_mb: int, max_output_bytes: int) -> ToolResult:
    if not code.strip():
        return ToolResult(ok=False, output="", error="no code to run")
    try:
        outcome = await _execute(code, mode=mode, timeout=timeout, memory_mb=memory_mb,
                                 max_output_bytes=max_output_bytes)
    except OSError as exc:  # could not even start the sandbox: an environment problem
        return ToolResult(ok=False, output="", error=f"sandbox could not start: {exc}")
    except Exception as exc:  # noqa: BLE001 - a tool reports failures, it never raises them
        return ToolResult(ok=False, output="", error=f"sandbox failed: {type(exc).__name__}: {exc}")
    return _to_result(outcome, timeout, memory_mb, max_output_bytes)


async def run_python_async(code: str, *, timeout: float = 10.0, memory_mb: int = 512,
                           max_output_bytes: int = 1_000_000) -> ToolResult:
    """Run model-written ``code`` in the sandbox without blocking the event loop; never raises for bad code.

    Refused (``ok=False`` with the reason) on a host without namespaces unless the user opted in."""
    mode = sandbox_mode()
    if mode == "refused":
        return ToolResult(ok=False, output="", error=refusal_message())
    return await _run(code, mode, timeout, memory_mb, max_output_bytes)


async def run_limited_async(code: str, *, timeout: float = 10.0, memory_mb: int = 512,
                            max_output_bytes: int = 1_000_000) -> ToolResult:
    """Run a program *we* wrote (the calculator) out of the host process, killable and limited.

    Kernel sandbox where available; elsewhere the rlimited child process, never refused, since the
    input it evaluates is data checked by a whitelist, not code."""
    mode = sandbox_mode()
    return await _run(code, "unsafe" if mode == "refused" else mode, timeout, memory_mb, max_output_bytes)


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
    """Which isolation layers apply on this machine, as the sandboxed child itself observes them."""
    mode = sandbox_mode()
    if mode == "refused":
        return {"mode": "refused", "reason": str(bwrap_problem())}

    async def probe() -> dict[str, str]:
        o = await _execute("pass", mode=mode, timeout=10.0, memory_mb=256, max_output_bytes=10_000,
                           report_layers=True)
        line = next((x for x in o.stderr.splitlines() if x.startswith(_LAYER_TAG)), _LAYER_TAG)
        return decode_config(line[len(_LAYER_TAG):])

    seen = _run_sync(probe)
    host = {"audit_hook": "on", "rlimits": "address space, CPU, file size, files, processes, core"}
    if mode == "kernel":
        host |= {"namespaces": "user, mount, pid, network, ipc, uts, cgroup", "filesystem":
                 "interpreter read-only, scratch tmpfs", "seccomp_filter": seccomp_program()[1],
                 "process_cap": process_cap_note()}
    return {**host, **seen}
