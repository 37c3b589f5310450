"""Fixtures for a person's datasets: an in-memory store and the same rows written in each file format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from egur_core.evals.datasets import stored
from egur_core.memory.store import MemoryStore

ROWS = [
    {"id": "q1", "question": "What is the capital of France?", "answer": "Paris", "topic": "geography"},
    {"id": "q2", "question": "How many legs does a spider have?", "answer": "8", "topic": "biology"},
    {"id": "q3", "question": "What is 12 * 12?", "answer": "144", "topic": "math"},
    {"id": "q4", "question": "Which planet is called the Red Planet?", "answer": "Mars", "topic": "astronomy"},
]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


def write(path: Path, rows: list[dict], fmt: str | None = None) -> Path:
    """``rows`` as a JSONL, CSV or Parquet file (the format from the suffix unless given)."""
    fmt = fmt or path.suffix.lstrip(".")
    if fmt in ("jsonl", "json"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        pd.DataFrame(rows).to_parquet(path, index=False)
    return path


@pytest.fixture
def dataset_file(tmp_path: Path) -> Callable[..., Path]:
    def make(rows: list[dict] | None = None, name: str = "data.jsonl") -> Path:
        return write(tmp_path / name, ROWS if rows is None else rows)
    return make


@pytest.fixture
def snapshot() -> Callable[[MemoryStore], tuple]:
    """Everything a failed add must leave as it was: the datasets and their rows."""
    def take(store: MemoryStore) -> tuple:
        datasets = [d.model_dump() for d in stored.list_datasets(store)]
        rows = store.query("SELECT version, row_no, id, problem, answer FROM dataset_rows ORDER BY ALL")
        return datasets, rows
    return take
