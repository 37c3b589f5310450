"""The seccomp filter bubblewrap installs in the sandbox: kernel attack surface model code never needs.

Compiled with libseccomp (present wherever systemd is; reached through ctypes, so no build step)
into a BPF program that ``bwrap --seccomp FD`` loads before the interpreter starts. libseccomp
resolves syscall names for the running architecture and rejects other ABIs (x32, i386 on x86_64).
The filter is a deny list, like Flatpak's and Docker's defaults: everything a Python program does
(files in its scratch directory, threads, fork, pipes) stays allowed; new namespaces, mounts, key
rings, BPF, perf, io_uring, ptrace, kernel modules, terminal injection and exotic socket families
fail with an error. Without libseccomp the filter is skipped and :func:`seccomp_program` says why.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

_ACT_ALLOW = 0x7FFF0000
_CMP_EQ, _CMP_GE, _CMP_MASKED_EQ = 4, 5, 7
DENIED_SYSCALLS = (
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace",
    "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm",
    "name_to_handle_at", "open_by_handle_at", "fanotify_init", "personality", "uselib", "vhangup",
    "lookup_dcookie", "kcmp", "pidfd_getfd",
)
_NAMESPACE_FLAGS = (0x10000000, 0x20000000, 0x40000000, 0x08000000, 0x04000000, 0x00020000, 0x02000000,
                    0x00000080)  # CLONE_NEWUSER, NEWPID, NEWNET, NEWIPC, NEWUTS, NEWNS, NEWCGROUP, NEWTIME
_TERMINAL_IOCTLS = (0x5412, 0x541C)  # TIOCSTI (type into the terminal), TIOCLINUX
_ALLOWED_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6 (the network namespace is empty anyway)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str, *conditions: tuple[int, int, int, int]) -> None:
    """Add one rule; a syscall this architecture does not have is simply absent from the filter."""
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:
        return
    array = (_ArgCmp * max(1, len(conditions)))(*[_ArgCmp(*c) for c in conditions])
    status = lib.seccomp_rule_add_array(ctx, action, number, len(conditions), array)
    if status < 0:
        raise OSError(-status, f"seccomp rule for {name}: {os.strerror(-status)}")


def _add_rules(lib: ctypes.CDLL, ctx: int) -> None:
    deny = _errno_action(errno.EPERM)
    for name in DENIED_SYSCALLS:
        _rule(lib, ctx, deny, name)
    for flag in _NAMESPACE_FLAGS:
        _rule(lib, ctx, deny, "clone", (0, _CMP_MASKED_EQ, flag, flag))
    _rule(lib, ctx, _errno_action(errno.ENOSYS), "clone3")  # flags hide in a struct: libc falls back to clone
    for request in _TERMINAL_IOCTLS:
        _rule(lib, ctx, deny, "ioctl", (1, _CMP_MASKED_EQ, 0xFFFFFFFF, request))
    no_family = _errno_action(errno.EAFNOSUPPORT)
    for family in range(max(_ALLOWED_FAMILIES)):
        if family not in _ALLOWED_FAMILIES:
            _rule(lib, ctx, no_family, "socket", (0, _CMP_EQ, family, 0))
    _rule(lib, ctx, no_family, "socket", (0, _CMP_GE, max(_ALLOWED_FAMILIES) + 1, 0))


@functools.cache
def seccomp_program() -> tuple[bytes | None, str]:
    """``(BPF program, description)``; the program is None (with the reason) where libseccomp is missing."""
    try:
        lib = _library()
    except OSError as exc:
        return None, f"off (libseccomp not found: {exc})"
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        return None, "off (seccomp_init failed)"
    fd = os.memfd_create("egur-seccomp")
    try:
        _add_rules(lib, ctx)
        status = lib.seccomp_export_bpf(ctx, fd)
        if status < 0:
            return None, f"off (export failed: {os.strerror(-status)})"
        os.lseek(fd, 0, os.SEEK_SET)
        program = b""
        while chunk := os.read(fd, 65536):
            program += chunk
    except OSError as exc:
        return None, f"off ({exc})"
    finally:
        os.close(fd)
        lib.seccomp_release(ctx)
    return program, f"on ({len(DENIED_SYSCALLS)} syscalls denied, namespace clones, TIOCSTI, socket families)"


def program_fd(program: bytes) -> int:
    """A fresh readable fd holding ``program`` at offset 0, for ``bwrap --seccomp FD`` (caller closes it)."""
    fd = os.memfd_create("egur-seccomp-run")
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
