"""Shared fixtures. Tests are a package (``tests/__init__.py``) so helpers import as ``tests.x``."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def example_strategies() -> dict[str, dict]:
    """The strategies shipped in ``data/strategies/``, by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "data" / "strategies").glob("*.json"))}


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for
    the rest of the session, which would break every later test that calls ``asyncio.run``."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
