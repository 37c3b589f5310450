"""A person's own datasets, kept in the memory file so the dashboard and the CLI see the same ones.

Adding one reads the file a block at a time (:mod:`files`) into this module's tables, each block
committed under a fresh version id that nothing points at yet, so memory stays bounded; only when
every check has passed (columns, types, duplicate ids, a verifier that runs) does one transaction
make the ``datasets`` row point at that version. A bad file's rows are deleted again: it changes
nothing. A dataset keeps its rows, the sha256 of the file it came from, its scorer and an optional
verifier's source. Problems come back in a seeded order computed in SQL, so a 100,000-row dataset is
never loaded whole to take 30 problems.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.files import (
    ColumnPlan,
    ColumnPlanFactory,
    DatasetFileError,
    check_file,
    file_digest,
    read_rows,
)
from egur_core.evals.datasets.scorers import SCORER_KEY, ScorerSpec, regex_problem
from egur_core.evals.datasets.verifier import SandboxVerifier, check_source
from egur_core.memory.records import utcnow
from egur_core.memory.store import MemoryStore

TABLE_OWNER = "user_datasets"
TABLES = (
    ("m001_datasets", """
    CREATE TABLE IF NOT EXISTS datasets (
        name VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, source VARCHAR,
        format VARCHAR, bytes BIGINT,
        columns JSON, scorer JSON NOT NULL, verifier VARCHAR, rows BIGINT NOT NULL, answered BIGINT NOT NULL,
        description VARCHAR DEFAULT '', created_at TIMESTAMP NOT NULL);
    CREATE TABLE IF NOT EXISTS dataset_rows (
        version VARCHAR NOT NULL, row_no BIGINT NOT NULL, id VARCHAR NOT NULL, problem VARCHAR NOT NULL,
        answer VARCHAR, meta JSON)"""),
)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
STAGE_ROWS = 250_000  # rows per staging transaction: few commits, a bounded transaction
RESERVED = ("ask",)  # the benchmark of questions typed on the Ask page


class DatasetSpec(BaseModel):
    """How to add a file: its name and what the columns, scorer and verifier are."""

    name: str
    scorer: ScorerSpec = Field(default_factory=ScorerSpec)
    problem_col: str | None = None
    answer_col: str | None = None
    id_col: str | None = None
    format: str | None = Field(None, description="jsonl, csv or parquet; default: from the extension and content")
    verifier: str | None = Field(None, description="Python source defining check(problem, answer)")
    description: str = ""
    replace: bool = False


class StoredDataset(BaseModel):
    """One stored dataset, as lists and pickers show it."""

    name: str
    version: str = Field(description="the rows' key: a new one per add, so a replaced dataset's rows never mix")
    content_hash: str
    source: str = ""
    format: str = ""
    bytes: int = 0
    columns: ColumnPlan
    scorer: ScorerSpec
    verifier: str | None = None
    rows: int
    answered: int
    description: str = ""
    created_at: datetime

    @property
    def label_free(self) -> bool:
        """Nothing grades it (no answers, no judge): runs learn from the verifier and agreement only."""
        return self.answered == 0 and self.scorer.kind != "judge"

    def summary(self) -> str:
        how = "label-free" if self.label_free else self.scorer.describe()
        return f"{self.rows:,} rows · {how}" + (" · verifier" if self.verifier else "")


def _ready(store: MemoryStore) -> MemoryStore:
    store.ensure_tables(TABLE_OWNER, TABLES)
    return store


def check_name(name: str, taken_by_shipped: bool) -> str:
    """The name as stored (lower case); ValueError if it is malformed or a shipped benchmark's."""
    key = (name or "").strip().lower()
    if not NAME_PATTERN.match(key):
        raise ValueError(f"dataset name {name!r} must be 1-64 characters: letters, digits, '_', '-' or '.', "
                         "starting with a letter or digit")
    if taken_by_shipped or key in RESERVED:
        raise ValueError(f"{key!r} is the name of a shipped benchmark; choose another name")
    return key


def _from_row(row: dict[str, Any]) -> StoredDataset:
    return StoredDataset(**{**row, "columns": ColumnPlan.model_validate(json.loads(row["columns"])),
                            "scorer": ScorerSpec.model_validate(json.loads(row["scorer"]))})


def list_datasets(store: MemoryStore) -> list[StoredDataset]:
    """Every stored dataset, by name (metadata only: fast whatever the row counts)."""
    return [_from_row(r) for r in _ready(store).query("SELECT * FROM datasets ORDER BY name")]


def get_dataset(store: MemoryStore, name: str) -> StoredDataset | None:
    row = _ready(store).query_one("SELECT * FROM datasets WHERE name = ?", [(name or "").strip().lower()])
    return _from_row(row) if row else None


def remove_dataset(store: MemoryStore, name: str) -> StoredDataset:
    """Delete a dataset and its rows (runs made on it stay, with its content hash); KeyError if unknown."""
    found = get_dataset(store, name)
    if found is None:
        raise KeyError(f"no dataset named {name!r}")
    with store.transaction():
        store.execute("DELETE FROM datasets WHERE name = ?", [found.name])
        store.execute("DELETE FROM dataset_rows WHERE version = ?", [found.version])
    return found


def add_dataset(store: MemoryStore, path: str | Path, spec: DatasetSpec, *, shipped: bool = False) -> StoredDataset:
    """Read ``path`` into the memory file as ``spec.name``; all or nothing (DatasetFileError/ValueError say why).

    ``shipped`` says the name is taken by a shipped benchmark (the catalog knows)."""
    name = check_name(spec.name, shipped)
    file, fmt = check_file(path, spec.format)
    if spec.verifier is not None:
        check_source(spec.verifier)
    existing = get_dataset(_ready(store), name)
    if existing is not None and not spec.replace:
        raise ValueError(f"a dataset named {name!r} already exists ({existing.summary()}, added "
                         f"{existing.created_at:%Y-%m-%d %H:%M}); choose another name or replace it")
    digest, version = file_digest(file), uuid.uuid4().hex
    try:
        rows, answered, plan = _stage(store, file, fmt, spec, version)
        if spec.verifier is not None:
            _try_verifier(store, version, spec.verifier)
        with store.transaction():  # the moment the dataset (or its new version) becomes visible
            if existing is not None:
                store.execute("DELETE FROM datasets WHERE name = ?", [name])
            store.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                name, version, digest, file.name, fmt, file.stat().st_size, plan.model_dump_json(),
                spec.scorer.model_dump_json(), spec.verifier, rows, answered, spec.description, utcnow()])
    except BaseException:
        store.execute("DELETE FROM dataset_rows WHERE version = ?", [version])
        raise
    if existing is not None:
        store.execute("DELETE FROM dataset_rows WHERE version = ?", [existing.version])
    return get_dataset(store, name)  # type: ignore[return-value]


def _stage(store: MemoryStore, file: Path, fmt: str, spec: DatasetSpec, version: str) -> tuple[int, int, ColumnPlan]:
    """Rows under a fresh ``version``, committed every :data:`STAGE_ROWS` rows (so memory stays bounded), not yet
    visible: no ``datasets`` row points at them until every check has passed."""
    columns = ColumnPlanFactory(spec.problem_col, spec.answer_col, spec.id_col)
    rows = answered = 0
    tables = read_rows(file, fmt, columns)
    while True:
        with store.transaction():
            staged = 0
            for table in tables:
                _check_answers(table, spec.scorer)
                store.insert_frame("dataset_rows", table.append_column("version", pa.array([version] * table.num_rows)))
                staged += table.num_rows
                answered += table.num_rows - table.column("answer").null_count
                if staged >= STAGE_ROWS:
                    break
        rows += staged
        if staged < STAGE_ROWS:
            break
    _check_whole(store, version, rows, answered, columns.plan)
    return rows, answered, columns.plan  # type: ignore[return-value]


def _check_answers(table: pa.Table, scorer: ScorerSpec) -> None:
    if scorer.kind != "regex":
        return
    for row_no, answer in zip(table.column("row_no").to_pylist(), table.column("answer").to_pylist()):
        problem = regex_problem(answer) if answer is not None else None
        if problem:
            raise DatasetFileError(f"row {row_no}: the answer {answer!r} is not a valid regular expression "
                                   f"({problem}); the regex scorer reads each answer as a pattern")


def _check_whole(store: MemoryStore, version: str, rows: int, answered: int, plan: ColumnPlan | None) -> None:
    """What only the whole file can show: no rows, answers on some rows only, repeated ids."""
    if rows == 0:
        raise DatasetFileError("the file has no rows (only a header, or nothing but blank lines)")
    if 0 < answered < rows:
        first = store.scalar("SELECT min(row_no) FROM dataset_rows WHERE version = ? AND answer IS NULL", [version])
        raise DatasetFileError(f"{answered:,} of {rows:,} rows have an answer (row {first} has none, column "
                               f"'{plan.answer if plan else 'answer'}'); give every row an answer, or none to run "
                               "label-free")
    repeated = store.query("""
        SELECT id, list(row_no ORDER BY row_no)[1:2] AS at, count(*) OVER () AS distinct_repeats
        FROM dataset_rows WHERE version = ? GROUP BY id HAVING count(*) > 1 ORDER BY min(row_no) LIMIT 3""",
                           [version])
    if repeated:
        shown = ", ".join(f"{r['id']!r} (rows {r['at'][0]} and {r['at'][1]})" for r in repeated)
        more = repeated[0]["distinct_repeats"] - len(repeated)
        raise DatasetFileError(f"duplicate ids: {shown}" + (f" and {more} more" if more > 0 else "") +
                               f"; ids (column '{plan.id if plan else 'id'}') must be unique, or leave the column "
                               "out to number the rows")


def _try_verifier(store: MemoryStore, version: str, source: str) -> None:
    """Run the verifier once, in the sandbox, on the first row: a check that crashes is refused now."""
    row = store.query_one("SELECT id, problem, answer FROM dataset_rows WHERE version = ? ORDER BY row_no LIMIT 1",
                          [version])
    outcome = SandboxVerifier(source).run(row["problem"], row["answer"] or "")
    if outcome.error:
        raise DatasetFileError(f"the verifier failed on the first row (id {row['id']!r}): {outcome.error}")


def count_rows(store: MemoryStore, name: str) -> int:
    """Rows of the dataset called ``name`` (0 when there is none)."""
    return int(_ready(store).scalar("SELECT count(*) FROM dataset_rows r JOIN datasets d USING (version) "
                                    "WHERE d.name = ?", [name]))


def load_problems(store: MemoryStore, dataset: StoredDataset, n: int | None = None, seed: int = 0) -> list[Problem]:
    """``n`` problems (all when None) in a seeded order: ``load(k, s) == load(None, s)[:k]`` as for shipped sets."""
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0 or None, got {n}")
    rows = _ready(store).query(f"""
        SELECT id, problem, answer, meta FROM dataset_rows WHERE version = ?
        ORDER BY md5(? || '|' || row_no::VARCHAR), row_no {'LIMIT ' + str(int(n)) if n is not None else ''}""",
                               [dataset.version, f"{dataset.name}|{seed}"])
    return [_problem(dataset, r) for r in rows]


def find_problems(store: MemoryStore, dataset: StoredDataset, search: str = "", limit: int = 50) -> list[Problem]:
    """Problems whose text or id contains ``search``, in file order (for picking one to ask)."""
    rows = _ready(store).query("""
        SELECT id, problem, answer, meta FROM dataset_rows WHERE version = ?
        AND (? = '' OR problem ILIKE ? OR id = ?) ORDER BY row_no LIMIT ?""",
                               [dataset.version, search, f"%{search}%", search, int(limit)])
    return [_problem(dataset, r) for r in rows]


def _problem(dataset: StoredDataset, row: dict[str, Any]) -> Problem:
    meta = json.loads(row["meta"]) if row["meta"] else {}
    return Problem(id=str(row["id"]), benchmark=dataset.name, family="user", text=row["problem"],
                   answer=row["answer"] or "", meta={**meta, SCORER_KEY: dataset.scorer.model_dump()})
