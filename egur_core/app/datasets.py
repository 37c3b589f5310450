"""What the dataset commands and the dashboard's upload share: adding a file (or uploaded bytes),
listing datasets for pickers, showing and removing them."""

from __future__ import annotations

import tempfile
from pathlib import Path

from egur_core.evals.datasets import stored
from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.catalog import DatasetInfo, catalog, is_shipped
from egur_core.evals.datasets.files import EXTENSIONS, DatasetFileError
from egur_core.evals.datasets.registry import load_problems as load_shipped
from egur_core.memory.store import MemoryStore


def add_file(store: MemoryStore, path: str | Path, spec: stored.DatasetSpec) -> stored.StoredDataset:
    """Add a file under ``spec.name`` (refused if a shipped benchmark has that name); all or nothing."""
    return stored.add_dataset(store, path, spec, shipped=is_shipped(spec.name))


def add_upload(store: MemoryStore, filename: str, data: bytes, spec: stored.DatasetSpec) -> stored.StoredDataset:
    """Add uploaded bytes: written to a scratch file with the upload's extension, read like any file, deleted."""
    suffix = Path(filename).suffix.lower()
    if suffix not in EXTENSIONS and spec.format is None:
        raise DatasetFileError(f"{filename}: give a .jsonl, .csv or .parquet file")
    with tempfile.TemporaryDirectory(prefix="egur-upload-") as folder:
        path = Path(folder) / (Path(filename).name or f"upload{suffix}")
        path.write_bytes(data)
        added = add_file(store, path, spec)
    return added


def stored_datasets(store: MemoryStore) -> list[stored.StoredDataset]:
    return stored.list_datasets(store)


def picker(store: MemoryStore) -> list[DatasetInfo]:
    """Shipped benchmarks, then the person's datasets: what every benchmark picker lists."""
    return catalog(store)


def dataset_rows(store: MemoryStore, name: str, n: int = 5) -> tuple[stored.StoredDataset, list[Problem]]:
    found = stored.get_dataset(store, name)
    if found is None:
        raise KeyError(f"no dataset named {name!r}; see `egur dataset list`")
    return found, stored.find_problems(store, found, limit=n)


def remove(store: MemoryStore, name: str) -> stored.StoredDataset:
    return stored.remove_dataset(store, name)


def find_problems(store: MemoryStore, name: str, search: str = "", limit: int = 50) -> list[Problem]:
    """Problems of any dataset (shipped or stored) whose text or id matches ``search``, to pick one to ask."""
    if is_shipped(name):
        needle = search.strip().lower()
        found = [p for p in load_shipped(name, None, 0) if not needle or needle in p.text.lower() or needle == p.id]
        return sorted(found, key=lambda p: p.id)[:limit]
    dataset = stored.get_dataset(store, name)
    if dataset is None:
        raise KeyError(f"no dataset named {name!r}")
    return stored.find_problems(store, dataset, search, limit)
