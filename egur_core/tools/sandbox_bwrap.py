"""The kernel boundary of the sandbox: the bubblewrap command line a python step runs under.

Fresh user, mount, pid, network, IPC, UTS and (where possible) cgroup namespaces; every capability
dropped; no new user namespaces inside; a new session (no terminal to inject into); the whole tree
SIGKILLed when the host process goes. The file system is built from nothing: the interpreter, its
standard library and site-packages and the shared libraries under ``/usr/lib`` read-only, a private
``/proc`` and minimal ``/dev``, and one size-capped tmpfs as the scratch directory (``/tmp`` points
at it). Nothing else of the host is there: no ``/tmp``, ``/dev/shm``, home, memory file, sockets,
``/etc`` or programs other than Python. :func:`bwrap_problem` says why a host cannot do this.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import stat
import subprocess
import sys
from pathlib import Path

SCRATCH = "/scratch"
SCRATCH_BYTES = 64 * 1024 * 1024
_SHARED_PREFIXES = {"/", "/usr", "/usr/local", "/opt"}  # too broad to show whole: only Python's parts of them
_LIB_DIRS = ("/usr/lib", "/usr/lib64", "/usr/lib32")
_ROOT_LIB_LINKS = ("/lib", "/lib64", "/lib32")


BWRAP_ENV = "EGUR_BWRAP"  # another bubblewrap binary (or a missing one, to see how a host without it behaves)


def bwrap_path() -> str | None:
    chosen = os.environ.get(BWRAP_ENV)
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin")


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@functools.cache
def python_paths() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(paths to show read-only, import path)`` for this interpreter and its installed packages.

    A dedicated prefix (pyenv, conda, a venv) is shown whole; under a shared prefix such as ``/usr``
    only the interpreter, libpython, the standard library and site-packages are. Entries of
    ``sys.path`` outside the prefixes (the project checkout, PYTHONPATH) are never shown.
    """
    exe = os.path.abspath(sys.executable)
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    candidates = [p for p in (*sys.path, *site.getsitepackages()) if p and os.path.isdir(p)]
    imports = [os.path.realpath(p) for p in candidates if any(_within(os.path.realpath(p), r) for r in prefixes)]
    shown = {exe, os.path.realpath(exe)}
    for prefix in prefixes:
        if prefix not in _SHARED_PREFIXES:
            shown.add(prefix)
            continue
        shown.update(p for p in imports if _within(p, prefix))
        shown.update(str(p) for p in Path(prefix, "lib").glob("libpython*.so*"))
    shown = {p for p in shown if not any(_within(p, d) for d in _LIB_DIRS)}
    minimal = sorted(p for p in shown if not any(p != q and _within(p, q) for q in shown))
    return tuple(minimal), tuple(dict.fromkeys(p for p in imports if not p.endswith(".zip")))


def _reachable_by_anyone(path: str) -> bool:
    """Can an unprivileged uid get to ``path`` (search permission on every directory above it)?"""
    return all(os.stat(parent).st_mode & stat.S_IXOTH for parent in Path(path).parents)


# Root only: a private mount namespace (nothing changes on the host) where each path the throw-away uid
# cannot reach (a pyenv under a 0700 /root) is bind-mounted under a fresh /tmp; then that uid runs bwrap.
_STAGE = ('set -e; n=$1; shift; mount -t tmpfs -o size=64k,mode=0755 egur-stage /tmp; i=0; '
          'while [ "$i" -lt "$n" ]; do mkdir "/tmp/$i"; mount --bind "$1" "/tmp/$i"; shift; i=$((i+1)); done; '
          'exec "$@"')
_STAGE_TOOLS = ("unshare", "setpriv", "mount", "sh")


def _tool(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")


def _filesystem(staged: dict[str, str]) -> list[str]:
    args: list[str] = []
    for lib in _LIB_DIRS:
        if os.path.isdir(lib):
            args += ["--ro-bind", lib, lib]
    for link in _ROOT_LIB_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for path in python_paths()[0]:
        args += ["--ro-bind", staged.get(path, path), path]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(SCRATCH_BYTES), "--tmpfs", "/dev/shm",
             "--size", str(SCRATCH_BYTES), "--perms", "0700", "--tmpfs", SCRATCH,
             "--symlink", SCRATCH, "/tmp", "--chdir", SCRATCH,
             "--remount-ro", "/dev", "--remount-ro", "/"]
    return args


def bwrap_argv(command: list[str], seccomp_fd: int | None = None, staged: dict[str, str] | None = None) -> list[str]:
    """``bwrap <isolation> -- command``; the command runs as uid/gid 65534 ("nobody") inside."""
    argv = [bwrap_path() or "bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--disable-userns", "--uid", "65534", "--gid", "65534",
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *_filesystem(staged or {})]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    return [*argv, "--", *command]


def process_cap_note() -> str:
    """Whether the per-run process cap binds here (it cannot for a sandbox mapped to host root)."""
    if os.geteuid() != 0:
        return "on (sandbox runs as this user)"
    if all(_tool(t) for t in _STAGE_TOOLS):
        return "on (sandbox runs as a throw-away uid)"
    return f"OFF: root without {', '.join(_STAGE_TOOLS)} runs the sandbox as host uid 0, which RLIMIT_NPROC exempts"


def launch_argv(command: list[str], uid: int, seccomp_fd: int | None = None) -> list[str]:
    """The full command line: bwrap directly (not root, or no throw-away uid), else staged as ``uid``.

    Run as root, bwrap would map the sandbox to host uid 0, which the kernel exempts from RLIMIT_NPROC
    (a fork bomb would not be capped) and which owns the files it is shown; a throw-away uid has neither.
    """
    if uid < 0 or not all(_tool(t) for t in _STAGE_TOOLS):
        return bwrap_argv(command, seccomp_fd)
    hidden = [p for p in python_paths()[0] if not _reachable_by_anyone(p)]
    staged = {path: f"/tmp/{i}" for i, path in enumerate(hidden)}
    switch = [_tool("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
              "--inh-caps=-all", "--bounding-set=-all"]
    return [_tool("unshare") or "unshare", "--mount", "--propagation", "private", "--", _tool("sh") or "sh", "-c",
            _STAGE, "egur-stage", str(len(hidden)), *hidden, *switch, *bwrap_argv(command, seccomp_fd, staged)]


@functools.cache
def bwrap_problem() -> str | None:
    """None when bubblewrap can build the sandbox here; else what stops it, in one sentence."""
    if not sys.platform.startswith("linux"):
        return f"kernel namespaces are Linux-only (this is {sys.platform})"
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed; on Debian or Ubuntu: apt-get install bubblewrap"
    probe = launch_argv([os.path.abspath(sys.executable), "-I", "-S", "-c", "pass"], probe_uid())
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap refused to create namespaces: {reason[-1] if reason else done.returncode}"
    return None


def probe_uid() -> int:
    """The unprivileged uid bubblewrap runs as when we are root (the probe uses the first of the band)."""
    return 2_000_000 if os.geteuid() == 0 else -1
