"""The ``calculator`` tool: the engine (``calc_engine.py``) run out of the host process, in the sandbox.

sympy can spin or allocate for minutes on one whitelisted line (``diff(sin(x), x, 10**9)``,
``expand((a+b+c+d+e+f+g+h)**100)``); a thread cannot be stopped and would grow the CLI or the
dashboard. A sandboxed child process can: the same wall-time and memory limits as a python step,
killed at the deadline. The input reaches the child as a JSON literal, never as code.
"""

from __future__ import annotations

import json
from pathlib import Path

from egur_core.tools.base import ToolResult, failure
from egur_core.tools.calc_engine import CalcError, calculate, evaluate, format_value  # noqa: F401  (re-exported)
from egur_core.tools.sandbox import run_limited_async

_ENGINE_SOURCE = Path(__file__).with_name("calc_engine.py").read_text(encoding="utf-8")
_RESULT_TAG = "EGUR_CALC_RESULT "
MAX_INPUT_CHARS = 250_000


def calculator_program(text: str) -> str:
    """The engine's source, then a call on ``text`` that prints the results as one tagged JSON line."""
    return (f"{_ENGINE_SOURCE}\n\nimport json as _json\n_results, _errors = calculate({json.dumps(text)})\n"
            f"print({_RESULT_TAG!r} + _json.dumps([_results, _errors], ensure_ascii=True))\n")


class CalculatorTool:
    """Exact math for the model, which is bad at arithmetic; one expression per line."""

    name = "calculator"
    description = ("Evaluate arithmetic and symbolic math exactly (sympy): fractions, big integers, roots, "
                   "factorial, binomial, gcd/lcm, trig, log/exp, expand/factor/simplify/diff/integrate.")
    input_format = ("One expression per line in Python syntax, e.g. '3/7 + 2**10', 'binomial(10, 3)', "
                    "'factor(x**2 - 1)'. '^' also means power; single letters are symbols. One result per line.")

    def __init__(self, *, memory_mb: int = 512) -> None:
        self.memory_mb = memory_mb

    async def run(self, input: str, *, timeout: float = 10.0, memory_mb: int | None = None) -> ToolResult:
        """In the sandbox, killable, within ``timeout`` and ``memory_mb`` (a step's limit, else the tool's)."""
        if not input.strip():
            return failure("no expression given")
        if len(input) > MAX_INPUT_CHARS:
            return failure(f"input longer than {MAX_INPUT_CHARS} characters")
        done = await run_limited_async(calculator_program(input), timeout=timeout,
                                       memory_mb=memory_mb or self.memory_mb, max_output_bytes=2_000_000)
        line = next((x for x in done.output.splitlines() if x.startswith(_RESULT_TAG)), None)
        if not done.ok or line is None:
            return failure(f"calculator stopped: {done.error or 'no result'}", seconds=done.seconds)
        results, errors = json.loads(line[len(_RESULT_TAG):])
        return ToolResult(ok=not errors, output="\n".join(results), error="; ".join(errors) or None,
                          seconds=done.seconds)
