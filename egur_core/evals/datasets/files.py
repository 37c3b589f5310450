"""Reading a person's dataset file (JSON lines, CSV or Parquet) into uniform rows, in bounded memory.

Files are read by pyarrow's streaming readers, a block at a time, so a large file never sits in
memory whole; one over :func:`max_file_bytes` is refused before it is read, with the limit named.
What a file really is comes from its first bytes, not its name: a CSV saved as ``.parquet`` or
an Excel workbook renamed ``.csv`` gets a message saying what it is. Every problem is a
:class:`DatasetFileError` whose message a person can act on (the columns found, the row, the
type); the caller stores nothing when one is raised.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from pydantic import BaseModel

FORMATS = ("jsonl", "csv", "parquet")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv",
              ".parquet": "parquet", ".pq": "parquet"}
PROBLEM_COLUMNS = ("problem", "question", "input")
ANSWER_COLUMNS = ("answer", "target", "output", "label", "gold")
ID_COLUMNS = ("id",)
MAX_BYTES_ENV = "EGUR_DATASET_MAX_BYTES"
DEFAULT_MAX_BYTES = 512 << 20  # measured: a 340 MB file (1M rows) took 0.7 GB of memory to add
BLOCK_BYTES = 4 << 20  # JSON/CSV block: how far a JSON reader looks to infer the columns; memory grows with it
PARQUET_BATCH_ROWS = 65_536
ROW_SCHEMA = pa.schema([("row_no", pa.int64()), ("id", pa.string()), ("problem", pa.string()),
                        ("answer", pa.string()), ("meta", pa.string())])
_WHAT = {"parquet": "is a Parquet file", "gzip": "is gzip-compressed (decompress it first)",
         "zip": "is a ZIP archive, perhaps an Excel workbook (export it as CSV)", "binary": "is binary, not text",
         "jsonl": "looks like JSON lines", "json-array": "is one JSON array (write one object per line: JSON lines)",
         "text": "looks like CSV or plain text", "empty": "is empty"}
_CONVERT = re.compile(r"Failed to convert JSON to (?P<kind>\w+), couldn't parse:(?P<value>.*)")
_CHANGED = re.compile(r"Column\((?P<col>[^)]*)\) changed from (?P<a>\w+) to (?P<b>\w+) in row (?P<row>\d+)")


class DatasetFileError(ValueError):
    """A dataset file that cannot be used as it is; the message says why and what to do. Nothing was stored."""


class ColumnPlan(BaseModel):
    """Which columns of a file are the problem, the answer and the id; the rest become metadata."""

    problem: str
    answer: str | None = None
    id: str | None = None
    meta: list[str] = []
    found: list[str] = []


def max_file_bytes() -> int:
    """The largest file accepted (``EGUR_DATASET_MAX_BYTES`` overrides the 512 MB default)."""
    raw = os.environ.get(MAX_BYTES_ENV, "")
    return int(raw) if raw.strip().isdigit() else DEFAULT_MAX_BYTES


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def sniff(path: Path) -> str:
    """What the first bytes say the file is: parquet, gzip, zip, binary, jsonl, json-array, text or empty."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if b"\x00" in head:
        return "binary"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    return {"{": "jsonl", "[": "json-array"}.get(text[:1], "text")


def check_file(path: str | Path, declared: str | None = None) -> tuple[Path, str]:
    """The file and its format, or a DatasetFileError: missing, too large, empty, or not what it says."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise DatasetFileError(f"no such file: {file}")
    size, limit = file.stat().st_size, max_file_bytes()
    if size > limit:
        raise DatasetFileError(f"{file.name} is {human_bytes(size)}; the limit is {human_bytes(limit)} "
                               f"({MAX_BYTES_ENV}). Split the file, or keep the rows you need.")
    fmt = declared or EXTENSIONS.get(file.suffix.lower())
    content = sniff(file)
    if content == "empty":
        raise DatasetFileError(f"{file.name} is empty: there are no rows to add")
    if fmt is None:
        fmt = {"parquet": "parquet", "jsonl": "jsonl", "text": "csv"}.get(content)
        if fmt is None:
            raise DatasetFileError(f"{file.name} {_WHAT[content]}; give a .jsonl, .csv or .parquet file")
    if fmt not in FORMATS:
        raise DatasetFileError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    expected = {"parquet": ("parquet",), "jsonl": ("jsonl",), "csv": ("text",)}[fmt]
    if content not in expected:
        raise DatasetFileError(f"{file.name} is not a {_FORMAT_NAMES[fmt]} file: it {_WHAT[content]}")
    return file, fmt


_FORMAT_NAMES = {"parquet": "Parquet", "jsonl": "JSON lines", "csv": "CSV"}


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes: the dataset's content hash."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _csv_reader(path: Path) -> pa_csv.CSVStreamingReader:
    """Every column as text: ``007`` and ``1.50`` stay as written (inference would make them 7 and 1.5)."""
    parse = pa_csv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    read = pa_csv.ReadOptions(block_size=BLOCK_BYTES)
    names = pa_csv.open_csv(path, read_options=read, parse_options=parse).schema.names
    convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
    return pa_csv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def open_batches(path: Path, fmt: str) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """The file's column names and its record batches, read lazily."""
    try:
        if fmt == "parquet":
            parquet = pq.ParquetFile(path)
            return parquet.schema_arrow.names, parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
        reader = _csv_reader(path) if fmt == "csv" else pa_json.open_json(
            path, read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES))
    except (pa.ArrowInvalid, OSError) as exc:
        raise explain_read_error(path, fmt, exc, 0) from None
    return reader.schema.names, iter(reader)


def explain_read_error(path: Path, fmt: str, exc: Exception, rows_before: int) -> DatasetFileError:
    """pyarrow's message, turned into one a person can act on (the line, the column, the types)."""
    message = str(exc)
    changed = _CHANGED.search(message)
    if changed:
        line = rows_before + int(changed["row"]) + 1
        return DatasetFileError(
            f"mixed types in column '{changed['col'].lstrip('/')}': line {line} holds a {changed['b']} where "
            f"earlier lines hold a {changed['a']}. Give every value of a column the same type "
            "(quote the numbers if some values are text).")
    converting = _CONVERT.search(message)
    if converting:
        return DatasetFileError(
            f"mixed types in a column: a line after line {rows_before} holds {converting['value']!r} where earlier "
            f"lines hold {converting['kind']} values. Give every value of a column the same type (write 3 as 3.0 if "
            "some values have decimals, or quote them all).")
    if "unexpected field" in message:
        return DatasetFileError(f"a line after line {rows_before} has a field the first lines do not have; "
                                "give every line the same fields (null where a value is missing)")
    if "Empty" in message:
        return DatasetFileError(f"{path.name} has no rows")
    where = f" (after row {rows_before})" if rows_before else ""
    what = {"jsonl": "valid JSON lines", "csv": "valid CSV", "parquet": "a readable Parquet file"}[fmt]
    return DatasetFileError(f"{path.name} is not {what}{where}: {message.splitlines()[0]}")


def plan_columns(found: list[str], problem: str | None = None, answer: str | None = None,
                 id_column: str | None = None) -> ColumnPlan:
    """Pick the problem/answer/id columns (given names, else the usual ones); list the columns found if absent."""
    lower = {name.lower(): name for name in found}
    listing = ", ".join(found) or "none"

    def pick(given: str | None, usual: tuple[str, ...], what: str) -> str | None:
        if given:
            if given not in found:
                raise DatasetFileError(f"no column named {given!r} for the {what}; columns found: {listing}")
            return given
        return next((lower[name] for name in usual if name in lower), None)

    problem_col = pick(problem, PROBLEM_COLUMNS, "problem")
    if problem_col is None:
        raise DatasetFileError(f"no problem column: expected one of {', '.join(PROBLEM_COLUMNS)} "
                               f"(or name one with --problem-col); columns found: {listing}")
    answer_col = pick(answer, ANSWER_COLUMNS, "answer")
    id_col = pick(id_column, ID_COLUMNS, "id")
    chosen = {problem_col, answer_col, id_col}
    return ColumnPlan(problem=problem_col, answer=answer_col, id=id_col, found=list(found),
                      meta=[name for name in found if name not in chosen])


def _as_text(column: pa.ChunkedArray | pa.Array, name: str, plan_role: str) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        raise DatasetFileError(f"column '{name}' ({plan_role}) holds {kind} values, not text or numbers")
    if pa.types.is_string(kind):
        return column
    return column.cast(pa.string())


def _meta_json(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    """The metadata columns of each row as one JSON object, built by DuckDB in memory (a scratch connection,
    not the memory file): ten times faster than ``json.dumps`` per row, which dominated adding a big file."""
    if not columns:
        return pa.nulls(batch.num_rows, pa.string())
    with duckdb.connect() as engine:
        engine.register("meta_rows", batch.select(columns))
        table = engine.sql("SELECT to_json(m)::VARCHAR AS meta FROM meta_rows m").to_arrow_table()
    return table.column("meta").combine_chunks()


def normalise_batch(batch: pa.RecordBatch, plan: ColumnPlan, first_row: int) -> pa.Table:
    """One batch as :data:`ROW_SCHEMA` rows (1-based ``row_no``); refuses rows without a problem."""
    problem = _as_text(batch.column(plan.problem), plan.problem, "the problem")
    blank = pc.or_kleene(pc.is_null(problem), pc.equal(pc.utf8_trim_whitespace(problem), ""))
    if pc.any(blank).as_py():
        row = first_row + pc.index(blank, True).as_py()
        raise DatasetFileError(f"row {row} has no problem text (column '{plan.problem}')")
    row_no = pa.array(range(first_row, first_row + batch.num_rows), pa.int64())
    ids = (_as_text(batch.column(plan.id), plan.id, "the id") if plan.id else row_no.cast(pa.string()))
    if plan.id and pc.any(pc.is_null(ids)).as_py():
        raise DatasetFileError(f"row {first_row + pc.index(pc.is_null(ids), True).as_py()} has no id "
                               f"(column '{plan.id}')")
    if plan.answer:
        answer = _as_text(batch.column(plan.answer), plan.answer, "the answer")
        answer = pc.if_else(pc.equal(pc.utf8_trim_whitespace(answer), ""), pa.scalar(None, pa.string()), answer)
    else:
        answer = pa.nulls(batch.num_rows, pa.string())
    return pa.Table.from_arrays([row_no, ids, problem, answer, _meta_json(batch, plan.meta)], schema=ROW_SCHEMA)


def read_rows(path: Path, fmt: str, plan_for: ColumnPlanFactory) -> Iterator[pa.Table]:
    """Normalised tables, batch by batch; ``plan_for(column names)`` chooses the columns once."""
    names, batches = open_batches(path, fmt)
    plan = plan_for(names)
    rows = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError) as exc:
            raise explain_read_error(path, fmt, exc, rows) from None
        if batch.num_rows:
            yield normalise_batch(batch, plan, rows + 1)
            rows += batch.num_rows


class ColumnPlanFactory:
    """Chooses the columns once the file's names are known (and remembers the plan for the record)."""

    def __init__(self, problem: str | None = None, answer: str | None = None, id_column: str | None = None):
        self.problem, self.answer, self.id_column = problem, answer, id_column
        self.plan: ColumnPlan | None = None

    def __call__(self, names: list[str]) -> ColumnPlan:
        self.plan = plan_columns(names, self.problem, self.answer, self.id_column)
        return self.plan
