"""Tools that strategy ``tool``/``agent``/``verify`` steps call on a rendered input string.

Every tool returns a :class:`ToolResult` and never raises for bad input. Model-written code runs
only in :mod:`egur_core.tools.sandbox`.

Layer: above ``strategy``; beside ``runtime``, ``memory`` and ``llm``, which it never imports.
"""

from egur_core.tools.base import Tool, ToolResult
from egur_core.tools.registry import ToolRegistry, default_registry

__all__ = ["Tool", "ToolResult", "ToolRegistry", "default_registry"]
