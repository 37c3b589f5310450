"""Hostile import files are refused before they are loaded, with the limit named; caps are never silent."""

from __future__ import annotations

import io
import json
import zipfile

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from egur_core.cli import main
from egur_core.memory.database import MemoryFile, close_idle_files
from egur_core.memory.ops import AddNote
from egur_core.memory.records import MemoryImportError
from egur_core.memory.store import MemoryStore
from egur_core.memory.transfer import SECTIONS

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"), max_notes=200)


@pytest.fixture
def export(store, tmp_path) -> dict:
    """A valid JSON export of a small memory, as a dict to doctor."""
    store.apply(AddNote(text="Check parity first."), "person")
    store.export_memory(tmp_path / "good.json")
    return json.loads((tmp_path / "good.json").read_text())


def _zip(path, members: dict[str, bytes], deflate: bool = True) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _empty_parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": pa.array([], pa.int64())}), buf)
    return buf.getvalue()


def test_a_zip_that_inflates_far_past_the_limit_is_refused_before_it_is_inflated(store, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("manifest.json", json.dumps({"format": "egur-memory", "version": 1}))
        for section in SECTIONS:  # a complete export, but for one member
            if section != "notes":
                zf.writestr(f"{section}.parquet", _empty_parquet())
        with zf.open("notes.parquet", "w", force_zip64=True) as member:
            for _ in range(16):  # 256 MiB of zeros (4x the limit), about 1 MB on disk
                member.write(bytes(16 * 1024 * 1024))
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(MemoryImportError, match="zip bomb"):
        store.import_memory(bomb)


def test_a_parquet_file_of_millions_of_rows_is_refused_from_its_footer(store, tmp_path):
    members = {"manifest.json": json.dumps({"format": "egur-memory", "version": 1}).encode()}
    for section in SECTIONS:
        rows = 6_000_000 if section == "notes" else 0
        table = pa.table({"note_id": pa.array(np.ones(rows, dtype=np.int64))})
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        members[f"{section}.parquet"] = buf.getvalue()
    _zip(tmp_path / "rows.zip", members, deflate=False)
    assert (tmp_path / "rows.zip").stat().st_size < 2_000_000
    with pytest.raises(MemoryImportError, match="6,000,000 rows, over the import limit"):
        store.import_memory(tmp_path / "rows.zip")


def test_a_30_mb_pinned_note_is_refused_naming_the_limit(store, export, tmp_path):
    export["notes"][0].update(text="x" * 30_000_000, pinned=True)
    (tmp_path / "big.json").write_text(json.dumps(export))
    with pytest.raises(MemoryImportError, match="notes\\[0\\].text: String should have at most 2000 characters"):
        store.import_memory(tmp_path / "big.json")


def test_version_true_is_not_version_1(store, export, tmp_path):
    export["version"] = True
    (tmp_path / "v.json").write_text(json.dumps(export))
    with pytest.raises(MemoryImportError, match="export version True"):
        store.import_memory(tmp_path / "v.json")


def test_importing_more_notes_than_the_cap_says_what_the_next_run_will_evict(tmp_path, capsys):
    source = MemoryFile(tmp_path / "source.duckdb", linger_s=0, max_notes=1000)
    with source.session() as big:
        big.apply_many([AddNote(text=f"insight number {i}") for i in range(400)], "person")
        big.export_memory(tmp_path / "400.json")
    close_idle_files()
    code = main(["memory", "import", str(tmp_path / "400.json"), "--db", str(tmp_path / "target.duckdb")])
    err = capsys.readouterr().err
    assert code == 0 and "the memory holds 400 notes, over its cap of 200" in err and "evicts the 200" in err
