"""Shared fixtures. Tests are a package (``tests/__init__.py``) so helpers import as ``tests.x``."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def example_strategies() -> dict[str, dict]:
    """The strategies shipped in ``data/strategies/``, by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "data" / "strategies").glob("*.json"))}
