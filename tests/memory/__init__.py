"""Shared fixtures for the memory store tests; test modules import the ones they use by name."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.memory.store import MemoryStore


def strategy_dict(name: str = "cot", temperature: float = 0.0) -> dict:
    """A small valid strategy; distinct names/temperatures give distinct hashes."""
    return {"name": name, "steps": [
        {"id": "think", "op": "llm", "prompt": "Solve: {problem}", "out": "x", "temperature": temperature},
        {"id": "final", "op": "answer", "from": "x"}]}


def keyword_embed(text: str) -> list[float]:
    """A 4-d embedding that makes similarity orders obvious in tests: one axis per topic word."""
    t = text.lower()
    return [float(t.count("sat")), float(t.count("count")), float(t.count("prime")), 0.1]


@pytest.fixture
def store() -> MemoryStore:
    con = duckdb.connect(":memory:")
    yield MemoryStore(con)
    con.close()


@pytest.fixture
def kstore() -> MemoryStore:
    """A store with the keyword embedder, for retrieval-order tests."""
    con = duckdb.connect(":memory:")
    yield MemoryStore(con, embed=keyword_embed)
    con.close()
