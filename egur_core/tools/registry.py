"""Which tools a strategy may call, by name, and the catalog the Guide LLM sees."""

from __future__ import annotations

from egur_core.strategy.tool_protocol import tool_definition
from egur_core.tools.base import Tool
from egur_core.tools.calculator import CalculatorTool
from egur_core.tools.python_tool import PythonTool
from egur_core.tools.sat import SatSolverTool


class ToolRegistry:
    """Name -> tool. Strategy validation and the runtime both resolve tool steps through this."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        """Add ``tool``; re-registering a name replaces the old tool (e.g. with other limits)."""
        for attr in ("name", "description", "input_format", "run"):
            if not hasattr(tool, attr):
                raise TypeError(f"{tool!r} is not a Tool: it has no {attr!r}")
        if not tool.name or not isinstance(tool.name, str):
            raise ValueError("a tool needs a non-empty string name")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise KeyError(f"unknown tool {name!r}; registered tools: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def definitions(self, names: list[str]) -> list[dict]:
        """Native tool definitions (chat-completions ``tools``) for an agent's tools, in the order given."""
        return [tool_definition(t.name, t.description, t.input_format) for t in map(self.get, names)]

    def catalog(self) -> list[dict]:
        """What the Guide prompt lists: one dict per tool with name, description, input_format."""
        return [{"name": t.name, "description": t.description, "input_format": t.input_format}
                for t in (self._tools[n] for n in self.names())]


def default_registry() -> ToolRegistry:
    """The built-in tools: python (sandboxed), sat_solver, calculator."""
    registry = ToolRegistry()
    for tool in (PythonTool(), SatSolverTool(), CalculatorTool()):
        registry.register(tool)
    return registry
