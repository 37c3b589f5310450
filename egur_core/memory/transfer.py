"""The memory export format: the library (with its strategies), notes and their op log, as a file.
The store's ``export_memory`` / ``import_memory`` (``memory/exchange.py``) read and write it.

Two formats, same content:

* ``.json``: one object ``{"format": "egur-memory", "version": 1, "strategies": [...],
  "library": [...], "notes": [...], "memory_ops": [...]}``, rows in id order.
* ``.zip``: a zip of Parquet files (``strategies``, ``library``, ``notes``, ``memory_ops``) plus
  ``manifest.json`` holding the format marker and version. JSON-valued fields (a strategy, an op's
  payload and snapshots) are JSON text columns. A zip: one file to download, upload or mail.

Embeddings are not exported (the importing store recomputes them, so its vectors stay comparable),
nor are runs and executions (not part of memory).

Import checks the file's declared sizes first (``import_limits.py``), then validates the *whole* file
before touching the store (marker, integer version, every row's schema and field lengths, every
strategy and its hash, references) and refuses a bad file with :class:`MemoryImportError`. The
import is logged as ops by actor ``"import"`` in one batch (``store.undo_batch(result.batch_id)``
reverts it), left out of exports: export -> import into an empty store -> export is identical.

``mode="replace"`` swaps the store's library and notes for the file's, ids preserved; the file's op
history is kept with its op ids when the store's log is empty, else renumbered after it.
``mode="merge"`` adds the file's entries and notes under new ids, skipping ones already present
(same signature and strategy, or same note text); the file's op history is not merged, since it
names the file's ids.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from egur_core.memory.curation import SNAPSHOT_DEFAULTS, TABLES
from egur_core.memory.import_limits import (
    MAX_EXAMPLE_CHARS,
    MAX_NOTE_CHARS,
    MAX_SIGNATURE_CHARS,
    check_file_size,
    check_parquet,
    check_rows,
    check_zip,
)
from egur_core.memory.records import MemoryImportError, dumps
from egur_core.strategy.text import clean_json
from egur_core.strategy.validation import validate_strategy

FORMAT, VERSION = "egur-memory", 1
SECTIONS = ("strategies", "library", "notes", "memory_ops")
JSON_FIELDS = {"strategies": ("json",), "memory_ops": ("payload", "before", "after")}
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StrategyRow(_Row):
    hash: str = Field(min_length=1)
    name: str | None
    paradigm: str | None
    summary: str | None
    strategy_json: dict[str, Any] = Field(alias="json")
    parent_hash: str | None
    created_by: str | None
    created_at: datetime
    made_by_model: str | None = None
    made_simulated: bool = False


class EntryRow(_Row):
    entry_id: int = Field(ge=1)
    signature: str = Field(min_length=1, max_length=MAX_SIGNATURE_CHARS)
    example: str = Field("", max_length=MAX_EXAMPLE_CHARS)
    benchmark: str
    strategy_hash: str = Field(min_length=1)
    uses: int = Field(ge=0)
    successes: int = Field(ge=0)
    total_cost: float = Field(ge=0)
    retrievals: int = Field(ge=0)
    pinned: bool
    banned: bool
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None
    created_run_id: str | None
    created_idx: int | None
    origin: Literal["seed", "learned", "person", "import"] = "learned"
    made_by_model: str | None = None
    made_simulated: bool = False
    sim_uses: int = Field(0, ge=0)
    sim_successes: int = Field(0, ge=0)
    sim_total_cost: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _successes_within_uses(self) -> EntryRow:
        if self.successes > self.uses or self.sim_successes > self.sim_uses or self.sim_uses > self.uses:
            raise ValueError("successes exceed uses, or simulated uses exceed uses")
        return self


class NoteRow(_Row):
    note_id: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    benchmark: str
    helpful: int = Field(ge=0)
    harmful: int = Field(ge=0)
    retrievals: int = Field(ge=0)
    pinned: bool
    banned: bool
    created_at: datetime
    updated_at: datetime
    created_run_id: str | None
    created_idx: int | None
    made_by_model: str | None = None
    made_simulated: bool = False


class OpRow(_Row):
    op_id: int = Field(ge=1)
    ts: datetime
    actor: str
    run_id: str | None
    idx: int | None
    kind: str
    payload: dict[str, Any] | None
    before: dict[str, dict[str, dict[str, Any]]]
    after: dict[str, dict[str, dict[str, Any]]]
    undo_of: int | None
    undone_by: int | None
    batch_id: str | None


class MemoryExport(_Row):
    format: Literal["egur-memory"]
    version: Literal[1]
    strategies: list[StrategyRow]
    library: list[EntryRow]
    notes: list[NoteRow]
    memory_ops: list[OpRow]


# -- export ----------------------------------------------------------------------------------------
def write_export(data: MemoryExport, path: str | Path) -> Path:
    """Write ``data`` to ``path`` (``.json`` or ``.zip`` of Parquet); return the path."""
    path = Path(path)
    kind = _format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "json":
        text = json.dumps(data.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True, ensure_ascii=False)
        with private_file(path) as handle:
            handle.write((text + "\n").encode("utf-8", errors="surrogatepass"))
        return path
    with private_file(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("manifest.json", _ZIP_TIME), dumps({"format": FORMAT, "version": VERSION}))
        for section in SECTIONS:
            rows = [_flatten(section, row.model_dump(by_alias=True)) for row in getattr(data, section)]
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(rows, schema=_arrow_schema(section)), buf)
            zf.writestr(zipfile.ZipInfo(f"{section}.parquet", _ZIP_TIME), buf.getvalue())
    return path


def private_file(path: Path) -> BinaryIO:
    """Open ``path`` for writing, owner-only (0600): an export holds the memory's notes and strategies."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: tighten it too
    return os.fdopen(fd, "wb")


def _format_of(path: Path) -> Literal["json", "zip"]:
    suffix = path.suffix.lower()
    if suffix in (".json", ".zip"):
        return "json" if suffix == ".json" else "zip"
    given = suffix or "no suffix"
    raise MemoryImportError(f"{path.name}: use a .json file or a .zip (of Parquet files), not {given!r}")


def _flatten(section: str, row: dict[str, Any]) -> dict[str, Any]:
    return {k: dumps(v) if k in JSON_FIELDS.get(section, ()) and v is not None else v for k, v in row.items()}


_ARROW_TYPES = {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string(), datetime: pa.timestamp("us")}


def _arrow_schema(section: str) -> pa.Schema:
    model = {"strategies": StrategyRow, "library": EntryRow, "notes": NoteRow, "memory_ops": OpRow}[section]
    fields = []
    for name, info in model.model_fields.items():
        base = next((t for t in (bool, int, float, datetime, str) if t in _type_args(info.annotation)), str)
        name = info.alias or name
        fields.append(pa.field(name, pa.string() if name in JSON_FIELDS.get(section, ()) else _ARROW_TYPES[base]))
    return pa.schema(fields)


def _type_args(annotation: Any) -> tuple:
    return getattr(annotation, "__args__", None) or (annotation,)


# -- import ----------------------------------------------------------------------------------------
def read_export(path: str | Path) -> MemoryExport:
    """Parse and fully validate an export file, or raise :class:`MemoryImportError` (first problems)."""
    path = Path(path)
    if not path.is_file():
        raise MemoryImportError(f"cannot import {path}: no such file")
    if _format_of(path) == "json":
        check_file_size(path)
        raw = clean_json(_read_json(path))
    else:
        raw = clean_json(_read_zip(path))
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise MemoryImportError(f"cannot import {path.name}: not an EGuR memory export (no \"format\": \"{FORMAT}\")")
    check_rows(path, raw)
    if type(raw.get("version")) is not int or raw.get("version") != VERSION:  # `true == 1` in Python
        raise MemoryImportError(f"cannot import {path.name}: export version {raw.get('version')!r}, "
                                f"this EGuR reads version {VERSION}")
    try:
        data = MemoryExport.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise MemoryImportError(_refusal(path, problems)) from None
    problems = _semantic_problems(data)
    if problems:
        raise MemoryImportError(_refusal(path, problems))
    return data


def _refusal(path: Path, problems: list[str]) -> str:  # the first five, then a count
    shown = "\n  ".join(problems[:5])
    more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
    return f"cannot import {path.name}: {len(problems)} problem(s), nothing was changed:\n  {shown}{more}"


def _loc(loc: tuple) -> str:  # ('library', 3, 'text') -> library[3].text
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise MemoryImportError(f"cannot import {path.name}: not a text JSON file") from None
    except json.JSONDecodeError as exc:
        raise MemoryImportError(f"cannot import {path.name}: not valid JSON (truncated or corrupt?): "
                                f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _read_zip(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip(path, zf)
            names = set(zf.namelist())
            missing = [n for n in ("manifest.json", *(f"{s}.parquet" for s in SECTIONS)) if n not in names]
            if missing:
                raise MemoryImportError(f"cannot import {path.name}: not an EGuR memory export "
                                        f"(missing {', '.join(missing)})")
            raw: dict[str, Any] = json.loads(zf.read("manifest.json"))
            for section in SECTIONS:
                data = zf.read(f"{section}.parquet")
                check_parquet(path, section, data)
                rows = pq.read_table(io.BytesIO(data)).to_pylist()
                raw[section] = [{k: json.loads(v) if k in JSON_FIELDS.get(section, ()) and v is not None else v
                                 for k, v in row.items()} for row in rows]
            return raw
    except MemoryImportError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, pa.ArrowException) as exc:
        raise MemoryImportError(f"cannot import {path.name}: corrupt or truncated zip/Parquet ({exc})") from None


def _semantic_problems(data: MemoryExport) -> list[str]:
    """What a schema cannot see: invalid strategies, wrong hashes, dangling references, duplicate ids."""
    problems, hashes = [], set()
    for i, row in enumerate(data.strategies):
        strategy, issues = validate_strategy(row.strategy_json)
        if issues or strategy is None:
            problems.append(f"strategies[{i}] ({row.hash}): invalid strategy: {'; '.join(map(str, issues[:2]))}")
        elif strategy.hash != row.hash:
            problems.append(f"strategies[{i}]: content hash is {strategy.hash}, file says {row.hash}")
        hashes.add(row.hash)
    for section, key in (("library", "entry_id"), ("notes", "note_id"), ("memory_ops", "op_id")):
        ids = [getattr(r, key) for r in getattr(data, section)]
        if len(ids) != len(set(ids)):
            problems.append(f"{section}: duplicate {key}")
    for i, entry in enumerate(data.library):
        if entry.strategy_hash not in hashes:
            problems.append(f"library[{i}].strategy_hash: strategy {entry.strategy_hash} is not in the file")
    for i, op in enumerate(data.memory_ops):
        for snap in (op.before, op.after):
            for kind, rows in snap.items():
                if kind not in TABLES:
                    problems.append(f"memory_ops[{i}]: unknown snapshot kind {kind!r}")
                    continue
                for item_id, row in rows.items():
                    missing = set(TABLES[kind].columns) - set(row) - set(SNAPSHOT_DEFAULTS[kind])
                    if missing or (kind == "entry" and row["strategy_hash"] not in hashes):
                        problems.append(f"memory_ops[{i}]: snapshot of {kind} {item_id} is incomplete")
    return problems
