"""Every library the code imports is declared in pyproject.toml, so a clean install (CI, a user's
`pip install .`) has it. The wheel test installs into a venv that sees this interpreter's packages, so
it cannot catch a dependency that is only installed here by accident."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL = {"egur_core", "pages", "tests", "perf", "app", "bench_retrieval"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.\-]+", requirement)[0]).lower()


def _declared(*extras: str) -> set[str]:
    project = PYPROJECT["project"]
    specs = [*project["dependencies"], *(s for extra in extras for s in project["optional-dependencies"][extra])]
    return {_name(spec) for spec in specs}


def _imported(paths: list[Path]) -> set[str]:
    modules: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in LOCAL}


def _undeclared(paths: list[Path], declared: set[str]) -> dict[str, list[str]]:
    distributions = packages_distributions()
    missing = {}
    for module in sorted(_imported(paths)):
        providers = {_name(d) for d in distributions.get(module, [])}
        if not providers & declared:
            missing[module] = sorted(providers)
    return missing


@pytest.mark.parametrize(("where", "extras"), [
    (["egur_core", "pages", "app.py"], ()),
    (["tests", "perf"], ("dev", "real-server")),
], ids=["the app needs only its dependencies", "tests and perf scripts need only dev and real-server extras"])
def test_every_imported_library_is_declared(where: list[str], extras: tuple[str, ...]):
    paths = [p for w in where for p in ([ROOT / w] if w.endswith(".py") else (ROOT / w).rglob("*.py"))]
    assert _undeclared(paths, _declared(*extras)) == {}
