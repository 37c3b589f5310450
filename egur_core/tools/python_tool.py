"""The ``python`` tool: run model-written code in the sandbox and return what it printed."""

from __future__ import annotations

import re

from egur_core.tools.base import ToolResult
from egur_core.tools.sandbox import run_python_async

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def unwrap_code(text: str) -> str:
    """Code from an LLM reply: the fenced blocks if there are any (joined), else the text itself.

    Models often wrap code in markdown fences and surround it with prose; running the prose
    would be a guaranteed SyntaxError.
    """
    blocks = [m.group(1) for m in _FENCE.finditer(text)]
    return "\n\n".join(b.strip("\n") for b in blocks) + "\n" if blocks else text


class PythonTool:
    """Runs Python 3 in the kernel sandbox: no network, nothing of the host, scratch dir only, time and memory
    limits."""

    name = "python"
    description = (
        "Run a Python 3 program in a sandbox and return what it prints to stdout. No network, no "
        "subprocesses, files only in the current (scratch) directory, time and memory limited. "
        "The standard library and installed packages such as sympy are available."
    )
    input_format = "A complete Python program (optionally in a ```python fenced block); print the answer."

    def __init__(self, *, memory_mb: int = 512, max_output_bytes: int = 100_000) -> None:
        self.memory_mb = memory_mb
        self.max_output_bytes = max_output_bytes

    async def run(self, input: str, *, timeout: float = 10.0, memory_mb: int | None = None) -> ToolResult:
        """``memory_mb`` overrides this tool's limit for one call (a strategy step's own, bounded by validation)."""
        return await run_python_async(unwrap_code(input), timeout=timeout, memory_mb=memory_mb or self.memory_mb,
                                      max_output_bytes=self.max_output_bytes)
