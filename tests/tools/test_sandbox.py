"""The Python sandbox, exercised with real subprocesses: each test is one containment promise."""

import asyncio
import ctypes  # noqa: F401 - the ctypes tests below need it importable on the host too
import json
import os
import socket
import time
from pathlib import Path

import pytest

from egur_core.tools.python_tool import PythonTool, unwrap_code
from egur_core.tools.sandbox import isolation_layers, run_python, run_python_async

pytestmark = pytest.mark.timeout(60)

LAYERS = isolation_layers()


def _identity(output: str) -> tuple[int, int]:
    """The (session, uid) the sandboxed code printed as its first line."""
    ident = json.loads(output.splitlines()[0])
    return ident["sid"], ident["uid"]


def _survivors(sid: int, uid: int) -> list[int]:
    """Live, non-zombie processes of a finished run, found by scanning /proc (no psutil)."""
    alive = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        ruid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if fields[0] != "Z" and (int(fields[3]) == sid or (uid != 0 and ruid == uid)):
            alive.append(int(entry))
    return alive


IDENTIFY = "import json, os\nprint(json.dumps({'sid': os.getsid(0), 'uid': os.getuid()}), flush=True)\n"


def test_normal_code_prints_the_right_answer():
    result = run_python("print(sum(i * i for i in range(10)))")
    assert result.ok and result.output == "285\n" and result.error is None


def test_infinite_loop_is_killed_at_the_timeout_and_the_host_is_fine():
    start = time.monotonic()
    result = run_python(IDENTIFY + "while True:\n    pass\n", timeout=1.0)
    assert not result.ok and result.error == "timed out after 1.0 s"
    assert time.monotonic() - start < 1.0 + 5.0  # killed, not left running (the test's own timeout is far later)
    assert _survivors(*_identity(result.output)) == []
    assert run_python("print('still fine')").output == "still fine\n"


def test_memory_bomb_is_contained_with_a_memory_error():
    result = run_python("x = bytearray(10 * 1024 ** 3)\nprint('allocated')", memory_mb=256)
    assert not result.ok and "memory" in result.error and "256 MB" in result.error
    assert "allocated" not in result.output


def test_gradual_memory_growth_is_contained():
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))"
    result = run_python(code, memory_mb=256, timeout=10.0)
    assert not result.ok and "memory" in result.error


def test_fork_bomb_is_contained_and_leaves_no_processes():
    code = IDENTIFY + "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = run_python(code, timeout=2.0)
    assert not result.ok and "timed out" in result.error
    assert _survivors(*_identity(result.output)) == []
    assert run_python("print(1)").ok


def test_children_escaping_the_session_via_ctypes_are_capped_and_killed():
    code = (
        "import ctypes, os, time\nlibc = ctypes.CDLL(None)\nforked = 0\n"
        "for _ in range(100):\n    pid = libc.fork()\n    if pid == 0:\n        os.setsid(); time.sleep(60)\n"
        "    forked += pid > 0\nprint('forked', forked)\n"
    )
    result = run_python(code, timeout=5.0)
    assert result.ok, result.error
    forked = int(result.output.split()[-1])
    assert 0 < forked < 100  # the per-run process cap stopped the loop


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    yield server
    server.close()


def _accepted_anything(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
        return True
    except TimeoutError:
        return False


def test_socket_to_localhost_is_blocked(listener):
    port = listener.getsockname()[1]
    code = f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))\nprint('connected')"
    result = run_python(code)
    assert not result.ok and "network" in result.error
    assert "connected" not in result.output
    assert not _accepted_anything(listener)


def test_raw_connect_bypassing_the_audit_hook_finds_no_network(listener):
    port = listener.getsockname()[1]
    code = (
        "import ctypes, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "fd = libc.socket(2, 1, 0)\n"
        f"addr = struct.pack('<H', 2) + struct.pack('>H', {port}) + bytes([127, 0, 0, 1]) + bytes(8)\n"
        "print(fd, libc.connect(fd, addr, len(addr)), ctypes.get_errno())"
    )
    result = run_python(code)
    assert result.ok
    assert result.output.split()[1] == "-1"  # connect failed inside the empty namespace
    assert not _accepted_anything(listener)


def test_writing_outside_the_scratch_dir_never_reaches_the_host(tmp_path):
    target = tmp_path / "escaped.txt"
    result = run_python(f"open({str(target)!r}, 'w').write('pwned')")
    assert not result.ok and ("outside the scratch directory" in result.error or "No such file" in result.error)
    assert not target.exists()


def test_writing_to_a_read_only_system_path_is_refused():
    result = run_python("open('/usr/lib/egur-test.txt', 'w').write('pwned')")
    assert not result.ok and "outside the scratch directory" in result.error


def test_raw_write_bypassing_the_audit_hook_is_refused_by_the_os(tmp_path):
    target = tmp_path / "escaped.txt"
    code = f"import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.open({str(target).encode()!r}, 0o101, 0o644))"
    result = run_python(code)
    assert result.output.strip() == "-1"
    assert not target.exists()


def test_the_sandbox_reports_its_kernel_layers():
    assert LAYERS["mode"] == "kernel" and LAYERS["capabilities"] == "0000000000000000"
    assert LAYERS["seccomp"] == "2" and LAYERS["no_new_privs"] == "1" and LAYERS["uid"] == "65534"


def test_files_inside_the_scratch_dir_work():
    code = "open('notes.txt', 'w').write('kept')\nprint(open('notes.txt').read())"
    assert run_python(code).output == "kept\n"


def test_starting_programs_is_blocked():
    result = run_python("import subprocess\nsubprocess.run(['echo', 'hi'])")
    assert not result.ok and "starting other programs" in result.error


def test_printing_100_mb_is_truncated_capped_and_fast():
    start = time.monotonic()
    result = run_python("import sys\nsys.stdout.write('x' * 100_000_000)", max_output_bytes=1_000_000)
    assert result.truncated and not result.ok and "output limit" in result.error
    assert len(result.output.encode()) <= 1_000_000 + 4_000
    assert time.monotonic() - start < 5.0


def test_syntax_error_gives_a_clear_message():
    result = run_python("def broken(:\n    pass")
    assert not result.ok and result.error.startswith("SyntaxError")
    assert "line 1" in result.output


def test_runtime_error_reports_the_exception_line():
    result = run_python("print('before')\n1 / 0")
    assert not result.ok and result.error == "ZeroDivisionError: division by zero"
    assert result.output.startswith("before\n") and "main.py" in result.output


def test_concurrent_runs_do_not_block_each_other():
    async def four() -> list:
        return await asyncio.gather(*(run_python_async("import time\ntime.sleep(0.5)\nprint('ok')")
                                      for _ in range(4)))

    start = time.monotonic()
    results = asyncio.run(four())
    assert all(r.ok for r in results)
    assert time.monotonic() - start < 2.0


def test_environment_is_cleared():
    os.environ["EGUR_SECRET_FOR_TEST"] = "hunter2"
    try:
        result = run_python("import os\nprint(sorted(os.environ))")
    finally:
        del os.environ["EGUR_SECRET_FOR_TEST"]
    assert "EGUR_SECRET_FOR_TEST" not in result.output


def test_python_tool_unwraps_markdown_fences():
    reply = "Here is the code:\n```python\nprint(6 * 7)\n```\nIt prints the answer."
    assert unwrap_code(reply) == "print(6 * 7)\n"
    result = asyncio.run(PythonTool().run(reply, timeout=10.0))
    assert result.ok and result.output == "42\n"


def test_python_tool_never_raises_for_empty_input():
    result = asyncio.run(PythonTool().run("   "))
    assert not result.ok and result.error
