"""The tool contract shared by every tool a strategy can call.

A tool takes one rendered input string and always answers with a :class:`ToolResult`; bad input,
crashes and timeouts become ``ok=False`` with a human-readable ``error`` instead of exceptions, so a
strategy run never dies because a tool did.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel


class ToolResult(BaseModel):
    """What a tool returns: success flag, (capped) output text and a clear error message if any."""

    ok: bool
    output: str
    error: str | None = None
    seconds: float = 0.0
    truncated: bool = False


@runtime_checkable
class Tool(Protocol):
    """A named capability the Guide LLM may choose; ``description``/``input_format`` go in its prompt."""

    name: str
    description: str
    input_format: str

    async def run(self, input: str, *, timeout: float = 10.0, memory_mb: int | None = None) -> ToolResult:
        """Never raises; ``timeout`` and ``memory_mb`` (``None``: the tool's own) are one call's limits."""
        ...


def failure(error: str, *, seconds: float = 0.0, output: str = "") -> ToolResult:
    """Shorthand for a failed result, so tools report bad input uniformly."""
    return ToolResult(ok=False, output=output, error=error, seconds=seconds)


