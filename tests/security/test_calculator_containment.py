"""The calculator leaves the host process: a hung or exploding sympy call is killed, and the host stays free.

Before, a call ran in a thread of the CLI or dashboard: the timeout was reported but the thread kept
computing (and growing), and a few hung calls starved the thread pool until nothing else ran.
"""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path

import pytest

from egur_core.tools.calculator import CalculatorTool
from egur_core.tools.sandbox import run_python_async

pytestmark = pytest.mark.timeout(120)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_a_hung_derivative_is_stopped_and_the_host_is_idle_afterwards():
    start = time.monotonic()
    result = asyncio.run(CalculatorTool().run("diff(sin(x), x, 10**9)", timeout=3.0))
    assert not result.ok and "timed out" in result.error
    assert time.monotonic() - start < 8.0
    cpu = _cpu_seconds()
    time.sleep(1.5)
    assert _cpu_seconds() - cpu < 0.5  # nothing of the call still computes in this process


def test_an_exploding_expansion_does_not_grow_the_host():
    before = _rss_mb()
    result = asyncio.run(CalculatorTool(memory_mb=300).run("expand((a+b+c+d+e+f+g+h)**100)", timeout=5.0))
    time.sleep(1.0)
    assert not result.ok
    assert _rss_mb() - before < 150


def test_six_hung_calls_do_not_starve_a_python_step():
    async def scenario() -> tuple[list, float, bool]:
        hung = [asyncio.create_task(CalculatorTool().run("diff(sin(x), x, 10**9)", timeout=4.0)) for _ in range(6)]
        await asyncio.sleep(0.5)
        start = time.monotonic()
        step = await run_python_async("print('still served')", timeout=10.0)
        return await asyncio.gather(*hung), time.monotonic() - start, step.ok

    calls, python_seconds, python_ok = asyncio.run(scenario())
    assert python_ok and python_seconds < 10.0
    assert all(not c.ok for c in calls)


@pytest.mark.parametrize(("expression", "expected"), [
    ("prime(10)", "29"), ("nextprime(10)", "11"), ("factorint(360)", "{2: 3, 3: 2, 5: 1}"),
    ("divisors(12)", "[1, 2, 3, 4, 6, 12]"), ("isprime(97)", "True"), ("mod_inverse(3, 7)", "5"),
    ("prime(10) + 1", "30"),
])
def test_number_theory_functions_answer(expression, expected):
    result = asyncio.run(CalculatorTool().run(expression))
    assert result.ok, result.error
    assert result.output == expected
