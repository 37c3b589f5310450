"""Model-written code sees nothing of the host: the adversarial cases, through the real kernel sandbox.

Each case is one way a hostile strategy (written by a Guide a prompt-injected note steered) tried
to reach the host. They run in bubblewrap exactly as a python step does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from egur_core.memory.database import MemoryFile, close_idle_files
from egur_core.memory.ops import AddNote
from egur_core.tools.sandbox import run_python
from tests.security.conftest import accepted_anything

pytestmark = pytest.mark.timeout(120)

READ = ("try:\n    print(open({path!r}, 'rb').read()[:4000])\n"
        "except OSError as exc:\n    print('refused', type(exc).__name__)\n")


def _read(path: Path) -> str:
    return run_python(READ.format(path=str(path))).output


def test_a_root_only_file_like_etc_shadow_is_not_visible(root_only_secret):
    output = _read(root_only_secret)
    assert "SECRET-HASH-41" not in output and "refused FileNotFoundError" in output


def test_a_0600_file_of_another_uid_is_not_visible(other_users_secret):
    output = _read(other_users_secret)
    assert "tok-OTHER-UID-77" not in output and "refused" in output


def test_the_memory_file_with_its_gold_answers_is_not_visible(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb", linger_s=0)
    with memory.session() as store:
        store.apply(AddNote(text="gold answer for problem 7 is GOLD-ANSWER-9191"), actor="person")
        store.checkpoint()
    close_idle_files()
    code = (f"import glob\nfor p in glob.glob({str(tmp_path)!r} + '/*') + ['{tmp_path}/m.duckdb']:\n"
            "    try:\n        data = open(p, 'rb').read()\n        print(p, b'GOLD-ANSWER-9191' in data)\n"
            "    except OSError as exc:\n        print('refused', type(exc).__name__)\n")
    output = run_python(code).output
    assert "True" not in output and "refused FileNotFoundError" in output


def test_a_world_readable_file_in_the_host_tmp_is_not_visible(world_writable_dir):
    path = world_writable_dir / "notes.txt"
    path.write_text("PUBLIC-BUT-HOST-ONLY-55")
    path.chmod(0o644)
    assert "PUBLIC-BUT-HOST-ONLY-55" not in _read(path)


def test_a_ctypes_write_to_host_tmp_and_dev_shm_lands_nowhere(planted_name):
    code = ("import ctypes\nlibc = ctypes.CDLL(None)\n"
            f"for folder in (b'/tmp/', b'/dev/shm/'):\n"
            f"    fd = libc.open(folder + {planted_name.encode()!r}, 0o101, 0o644)\n"
            "    print(fd, libc.write(fd, b'planted', 7) if fd >= 0 else -1)\n")
    run_python(code)
    assert not Path("/tmp", planted_name).exists()
    assert not Path("/dev/shm", planted_name).exists()


def test_an_sqlite_database_written_to_host_dev_shm_lands_nowhere(planted_name):
    code = (f"import sqlite3\ncon = sqlite3.connect('/dev/shm/{planted_name}')\n"
            "con.execute('create table t (x)'); con.commit(); print('written')\n")
    run_python(code)
    assert not Path("/dev/shm", planted_name).exists()


def test_spawning_a_shell_through_ctypes_finds_no_shell():
    code = "import ctypes\nlibc = ctypes.CDLL(None)\nprint('status', libc.system(b'echo SPAWNED-SHELL-RAN'))\n"
    result = run_python(code)
    assert "SPAWNED-SHELL-RAN" not in result.output


def test_the_symlink_race_against_the_audit_hook_writes_nothing_outside(world_writable_dir):
    target = world_writable_dir / "escaped.txt"
    code = f"""
import ctypes, os, time
libc = ctypes.CDLL(None)
open('inside.txt', 'w').close()
os.symlink('inside.txt', 'link')
stop = time.monotonic() + 3
if os.fork() == 0:  # a second process flips the link (rename(2) is atomic): a real race, not GIL-serialised
    while time.monotonic() < stop:
        for dest in ({str(target).encode()!r}, b'inside.txt'):
            libc.symlink(dest, b'link.new')
            libc.rename(b'link.new', b'link')
    os._exit(0)
while time.monotonic() < stop:
    try:
        with open('link', 'a') as handle:  # checked by the audit hook, then opened: the window
            handle.write('x' * 4096)
    except OSError:
        pass
"""
    run_python(code, timeout=10.0)
    assert not target.exists() or target.stat().st_size == 0


def test_a_host_unix_socket_is_not_reachable(host_unix_socket):
    path, server = host_unix_socket
    code = ("import ctypes, struct\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.socket(1, 1, 0)\n"
            f"addr = struct.pack('<H', 1) + {str(path).encode()!r} + bytes(108 - {len(str(path))})\n"
            "print('connect', libc.connect(fd, addr, len(addr)), ctypes.get_errno())\n")
    result = run_python(code)
    assert "connect -1" in result.output
    assert not accepted_anything(server)


def test_the_hosts_processes_are_not_visible_in_proc():
    result = run_python("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    pids = [int(p) for p in result.output.strip("[]\n").split(", ") if p]
    assert os.getpid() not in pids and len(pids) <= 4


def test_nothing_of_the_host_file_system_but_the_interpreter_is_there():
    result = run_python("import os\nprint(sorted(os.listdir('/')))\nprint(os.path.exists('/bin/sh'), "
                        "os.path.exists('/etc/passwd'), os.path.exists('/work'), os.path.exists('/home'))")
    assert result.ok, result.error
    assert result.output.splitlines()[1] == "False False False False"


def test_background_processes_die_with_the_run(planted_name):
    code = (f"import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        os.setsid()\n"
            f"        held = open({planted_name!r}, 'w')\n        time.sleep(60)\n        os._exit(0)\n"
            "time.sleep(0.3)\nprint('forked')\n")
    assert run_python(code).output == "forked\n"
    time.sleep(0.5)
    assert _holders(planted_name) == []


def _holders(marker: str) -> list[int]:
    """Live host processes holding a file named ``marker`` open (what the sandboxed children did)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            links = [os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")]
        except OSError:
            continue
        found += [int(entry)] if any(link.endswith(marker) for link in links) else []
    return found


def test_without_bubblewrap_code_steps_are_refused_with_a_clear_message():
    code = ("from egur_core.tools.sandbox import run_python, sandbox_notice\n"
            "r = run_python('print(40 + 2)')\nprint(r.ok, r.output.strip() or '-', '|', r.error)\n"
            "print('notice:', sandbox_notice())\n")
    env = {**os.environ, "EGUR_BWRAP": "/nonexistent/bwrap", "EGUR_UNSAFE_SANDBOX": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    first, notice = done.stdout.splitlines()[:2]
    assert first.startswith("False - | code steps are refused") and "EGUR_UNSAFE_SANDBOX=1" in first
    assert notice.startswith("notice: code steps are refused")


def test_the_unsafe_opt_in_runs_code_and_says_so():
    code = ("from egur_core.tools.sandbox import run_python, sandbox_notice\n"
            "print(run_python('print(40 + 2)').output.strip())\nprint(sandbox_notice())\n")
    env = {**os.environ, "EGUR_BWRAP": "/nonexistent/bwrap", "EGUR_UNSAFE_SANDBOX": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    answer, notice = done.stdout.splitlines()[:2]
    assert answer == "42" and notice.startswith("UNSAFE MODE")


@pytest.mark.parametrize(("flag", "banner"), [([], "warning: code steps are refused"),
                                              (["--unsafe-sandbox"], "warning: UNSAFE MODE")])
def test_the_cli_says_when_model_code_is_not_kernel_isolated(flag, banner):
    env = {**os.environ, "EGUR_BWRAP": "/nonexistent/bwrap", "EGUR_UNSAFE_SANDBOX": ""}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "egur_core.cli", *flag, "strategy", "validate",
                           "data/strategies/chain_of_thought.json"], capture_output=True, text=True, env=env,
                          cwd=root, timeout=120)
    assert done.returncode == 0 and done.stderr.startswith(banner)


def test_signals_to_every_process_reach_only_the_sandbox():
    watcher = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run_python("import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getppid() or 1, signal.SIGKILL)")
        assert watcher.poll() is None  # a host process of the same user still runs
        assert run_python("print('still fine')").output == "still fine\n"
    finally:
        watcher.kill()
        watcher.wait()
