"""Child-side bootstrap of the Python sandbox; the first code the sandbox interpreter runs.

The host starts ``python -I -S -B -X utf8 -c <this file's source> <config>`` and writes the model's
program on stdin. Everything here happens *before* that program runs, so it cannot skip it. It
imports only modules the interpreter has loaded anyway or that are built in (no json, traceback,
signal: under load each was tens of milliseconds of every python step's start-up); the config is
``key=value`` pairs separated by US characters (lists by RS), see ``encode_config``.

In ``kernel`` mode the boundary is already in place (bubblewrap's namespaces, seccomp, no
capabilities; see ``sandbox_bwrap.py``); this adds resource limits (address space, CPU seconds,
file size, open files, processes, no core dumps) and, as a second line only, an audit hook that
refuses sockets, starting programs and writes outside the scratch directory with clear messages.

In ``unsafe`` mode (a host without namespaces, and the user opted in) it also tries what it can
from inside: a network namespace, and a drop from root to a throw-away uid without capabilities.

It must stay self-contained (standard library only): it is not imported, only read as text.
"""

import _signal
import builtins
import ctypes
import os
import resource
import sys
import types

_NET_MSG = "network access is blocked in the sandbox"
_SPAWN_MSG = "starting other programs is blocked in the sandbox"
_WRITE_MSG = "writing outside the scratch directory is blocked in the sandbox"
_CLONE_NEWNET, _CLONE_NEWUSER = 0x40000000, 0x10000000
_PR_SET_KEEPCAPS, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 8, 24, 38
_CAP_DAC_READ_SEARCH = 2
FIELD, ITEM = "\x1f", "\x1e"


def encode_config(cfg: dict) -> str:
    """The host's half (it reads this file's source to call it): lists by RS, booleans as 1/0."""
    def flat(value) -> str:
        if isinstance(value, list | tuple):
            return ITEM.join(map(str, value))
        return str(int(value)) if isinstance(value, bool) else str(value)
    return FIELD.join(f"{key}={flat(value)}" for key, value in cfg.items())


def decode_config(text: str) -> dict:
    return dict(item.split("=", 1) for item in text.split(FIELD) if item)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _isolate_network() -> str:
    """Unsafe mode: a new net namespace (root), or user+net (unprivileged); 'none' if the kernel refuses."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWNET) == 0:
        return "netns"
    if os.geteuid() != 0 and libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0:
        return "userns+netns"
    return "none"


def _set_limits(cfg: dict) -> None:
    """Kernel-enforced ceilings; SIGXFSZ ignored so an oversized write fails with an error instead."""
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_CPU", "cpu_seconds"), ("RLIMIT_FSIZE", "fsize_bytes"),
                      ("RLIMIT_CORE", None), ("RLIMIT_NOFILE", "nofile"), ("RLIMIT_NPROC", "nproc")):
        value = int(cfg[key]) if key else 0
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError):
            pass
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_privileges(uid: int, keep_read: bool) -> str:
    """Unsafe mode: become ``uid`` (all ids, no groups, no capabilities); 'root' if the kernel refuses.

    ``keep_read`` keeps CAP_DAC_READ_SEARCH, needed only when the interpreter lives somewhere
    other users cannot read (the host decides).
    """
    libc = _libc()
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if uid < 0 or os.geteuid() != 0:
        return "unchanged"
    kept = 1 << _CAP_DAC_READ_SEARCH if keep_read else 0
    try:
        for cap in range(64):
            if not kept >> cap & 1:
                libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        libc.prctl(_PR_SET_KEEPCAPS, 1 if kept else 0, 0, 0, 0)
        os.setresuid(uid, uid, uid)
    except OSError:
        return "root"
    if kept:
        header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = kept
        libc.capset(ctypes.byref(header), data)
        libc.prctl(_PR_SET_KEEPCAPS, 0, 0, 0, 0)
    return "uid+read-cap" if kept else "uid"


_NET_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
                         "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                         "socket.getnameinfo"})
_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                           "os.forkpty", "os.startfile"})
# event -> (indices of path arguments, index of the dir_fd argument or None)
_PATH_EVENTS = {"os.remove": ((0,), 1), "os.rmdir": ((0,), 1), "os.mkdir": ((0,), 2),
                "os.rename": ((0, 1), 2), "os.symlink": ((1,), 2), "os.link": ((1,), 3),
                "os.chmod": ((0,), 2), "os.chown": ((0,), 3), "os.truncate": ((0,), None),
                "os.utime": ((0,), 3), "os.mkfifo": ((0,), 2), "os.mknod": ((0,), 3)}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _make_audit_hook(scratch: str):
    """Build the hook; it only resolves paths with calls that raise no audit events themselves."""
    scratch = os.path.realpath(scratch)
    allowed = ("/dev/null",)

    def inside(path, dir_fd) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor: opening it was checked
        text = os.fsdecode(os.fspath(path))
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(text):
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        real = os.path.realpath(text)
        return real == scratch or real.startswith(scratch + os.sep) or real in allowed

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            if args[2] & _WRITE_FLAGS and not inside(args[0], None):
                raise PermissionError(f"{_WRITE_MSG}: {args[0]}")
        elif event == "socket.__new__":
            if args[1] != 1:  # AF_UNIX socket pairs stay allowed (asyncio, multiprocessing)
                raise PermissionError(_NET_MSG)
        elif event in _NET_EVENTS:
            raise PermissionError(f"{_NET_MSG} ({event.split('.', 1)[1]})")
        elif event in _SPAWN_EVENTS:
            raise PermissionError(_SPAWN_MSG)
        elif event in _PATH_EVENTS:
            indices, fd_index = _PATH_EVENTS[event]
            dir_fd = args[fd_index] if fd_index is not None and fd_index < len(args) else None
            for i in indices:
                if not inside(args[i], dir_fd):
                    raise PermissionError(f"{_WRITE_MSG}: {args[i]}")

    return hook


def _observed_layers(mode: str, layers: dict) -> dict:
    """What this process can see of its own confinement (for ``isolation_layers()``)."""
    with open("/proc/self/status") as handle:
        status = dict(line.split(":\t", 1) for line in handle.read().splitlines() if ":\t" in line)
    return {**layers, "mode": mode, "uid": str(os.getuid()), "capabilities": status.get("CapEff", "?").strip(),
            "seccomp": status.get("Seccomp", "?").strip(), "no_new_privs": status.get("NoNewPrivs", "?").strip(),
            "root": ",".join(sorted(os.listdir("/")))}


def _run_user_code(path: str) -> int:
    """Run ``path`` as ``__main__``; print a traceback without this bootstrap's frame on error (with the
    interpreter's own printer, which needs no ``traceback`` module)."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        code = compile(source, "main.py", "exec")
    except (SyntaxError, ValueError) as exc:
        sys.__excepthook__(type(exc), exc.with_traceback(None), None)
        return 1
    module = types.ModuleType("__main__")
    module.__file__, module.__builtins__ = "main.py", builtins
    sys.modules["__main__"], sys.argv = module, ["main.py"]
    try:
        exec(code, module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - report everything the model's code raised
        inner = exc.__traceback__.tb_next
        sys.__excepthook__(type(exc), exc.with_traceback(inner), inner)
        return 1
    return 0


def main() -> None:
    cfg = decode_config(sys.argv[1])
    sys.path[:0] = [p for p in cfg["path"].split(ITEM) if p]  # -S skipped site: the packages the host shows
    code_file = os.path.join(cfg["scratch"], "main.py")
    with open(code_file, "wb") as handle:
        handle.write(sys.stdin.buffer.read())
    layers = {}
    if cfg["mode"] == "unsafe":
        layers["network"] = _isolate_network()
    _set_limits(cfg)
    if cfg["mode"] == "unsafe":
        layers["user"] = _drop_privileges(int(cfg["uid"]), cfg["keep_read"] == "1")
    os.chdir(cfg["scratch"])
    sys.addaudithook(_make_audit_hook(cfg["scratch"]))
    if cfg.get("report_layers") == "1":
        sys.stderr.write("EGUR_SANDBOX_LAYERS " + encode_config(_observed_layers(cfg["mode"], layers)) + "\n")
    status = _run_user_code(code_file)
    sys.stdout.flush()
    sys.exit(status)


if __name__ == "__main__":
    main()
