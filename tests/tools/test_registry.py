"""The registry the runtime resolves tool steps with, and the catalog the Guide prompt shows."""

import asyncio

import pytest

from egur_core.tools import Tool, ToolRegistry, ToolResult, default_registry

pytestmark = pytest.mark.timeout(30)


def test_catalog_lists_the_three_builtin_tools():
    catalog = default_registry().catalog()
    assert [entry["name"] for entry in catalog] == ["calculator", "python", "sat_solver"]
    for entry in catalog:
        assert set(entry) == {"name", "description", "input_format"}
        assert entry["description"] and entry["input_format"]


def test_builtin_tools_satisfy_the_protocol():
    registry = default_registry()
    assert all(isinstance(registry.get(name), Tool) for name in registry.names())


def test_unknown_tool_raises_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown tool 'web_search'.*calculator, python, sat_solver"):
        default_registry().get("web_search")


def test_custom_tools_can_be_registered():
    class Echo:
        name, description, input_format = "echo", "Repeats its input.", "Any text."

        async def run(self, input: str, *, timeout: float = 10.0) -> ToolResult:
            return ToolResult(ok=True, output=input)

    registry = ToolRegistry()
    registry.register(Echo())
    assert registry.names() == ["echo"]
    assert asyncio.run(registry.get("echo").run("hi")).output == "hi"
    with pytest.raises(TypeError):
        registry.register(object())  # type: ignore[arg-type]


def test_every_builtin_tool_runs_through_the_registry():
    registry = default_registry()

    async def all_three():
        return await asyncio.gather(
            registry.get("python").run("print(2 + 3)"),
            registry.get("sat_solver").run("p cnf 1 1\n1 0"),
            registry.get("calculator").run("2 + 3"),
        )

    python, sat, calc = asyncio.run(all_three())
    assert (python.output, sat.output, calc.output) == ("5\n", "SAT\n1", "5")
