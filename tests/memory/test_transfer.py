from __future__ import annotations

import json
import re
import zipfile

import duckdb
import pytest

from egur_core.memory.ops import AddEntry, AddNote, DeleteEntry, UpdateEntry, UpdateNote
from egur_core.memory.records import MemoryImportError
from egur_core.memory.store import MemoryStore
from tests.memory import store, strategy_dict  # noqa: F401


@pytest.fixture
def curated(store: MemoryStore) -> MemoryStore:  # noqa: F811
    """Some history: adds, a new strategy version, a pin, a delete, an undo, usage stats."""
    store.apply_many([AddEntry(signature=f"kind {i}", strategy=strategy_dict(f"s{i}"), benchmark="sat")
                      for i in range(3)] + [AddNote(text="note a"), AddNote(text="note b")], "consolidator")
    store.apply(UpdateEntry(entry_id=1, strategy=strategy_dict("s0", 0.5)), "consolidator")
    store.apply(UpdateNote(note_id=2, pinned=True), "person")
    store.undo(store.apply(DeleteEntry(entry_id=3), "person"))
    store.apply(DeleteEntry(entry_id=2), "person")
    store.record_entry_outcome(1, True, 0.125)
    return store


def empty_store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


@pytest.mark.parametrize("suffix", [".json", ".zip"])
def test_export_import_export_round_trips_exactly(curated: MemoryStore, tmp_path, suffix: str) -> None:
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    curated.export_memory(first)
    target = empty_store()
    target.import_memory(first)
    target.export_memory(second)
    assert first.read_bytes() == second.read_bytes()
    assert target.list_entries()["entry_id"].tolist() == curated.list_entries()["entry_id"].tolist()


def test_imported_history_can_still_be_undone(curated: MemoryStore, tmp_path) -> None:
    curated.export_memory(tmp_path / "m.json")
    target = empty_store()
    target.import_memory(tmp_path / "m.json")
    delete_op = int(target.op_log(actor="person")["op_id"].iloc[0])
    target.undo(delete_op)
    assert 2 in target.list_entries()["entry_id"].tolist()


def test_import_is_undoable_as_a_batch(curated: MemoryStore, tmp_path) -> None:
    curated.export_memory(tmp_path / "m.json")
    target = empty_store()
    target.apply(AddNote(text="mine"), "person")
    result = target.import_memory(tmp_path / "m.json")
    assert target.list_notes()["text"].tolist() != ["mine"]
    target.undo_batch(result.batch_id)
    assert target.list_notes()["text"].tolist() == ["mine"] and target.list_entries().empty


def test_merge_adds_new_items_and_skips_duplicates(curated: MemoryStore, tmp_path) -> None:
    curated.export_memory(tmp_path / "m.json")
    result = curated.import_memory(tmp_path / "m.json", mode="merge")
    assert (result.entries, result.notes) == (0, 0)
    target = empty_store()
    target.apply(AddNote(text="mine"), "person")
    target.import_memory(tmp_path / "m.json", mode="merge")
    assert sorted(target.list_notes()["text"]) == ["mine", "note a", "note b"]


def write_json(path, data) -> None:
    path.write_text(json.dumps(data))


def bad_files(tmp_path, good: dict) -> dict:
    """name -> (path, expected message fragment)."""
    out = {}
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(good)[:200])
    out["truncated"] = (truncated, "not valid JSON")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_bytes(b"\x00\xff garbage")
    out["corrupt"] = (corrupt, "cannot import corrupt.json")
    foreign = tmp_path / "foreign.json"
    write_json(foreign, {"name": "some other app", "items": []})
    out["foreign"] = (foreign, "not an EGuR memory export")
    future = tmp_path / "future.json"
    write_json(future, {**good, "version": 99})
    out["future version"] = (future, "export version 99")
    bad_strategy = tmp_path / "bad_strategy.json"
    broken = json.loads(json.dumps(good))
    broken["strategies"][0]["json"]["steps"] = [{"id": "f", "op": "answer", "from": "undefined_var"}]
    write_json(bad_strategy, broken)
    out["invalid strategy"] = (bad_strategy, "invalid strategy")
    bad_row = tmp_path / "bad_row.json"
    broken = json.loads(json.dumps(good))
    del broken["library"][0]["signature"]
    broken["notes"][0]["helpful"] = -1
    write_json(bad_row, broken)
    out["bad row"] = (bad_row, "library[0].signature: Field required")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 truncated")
    out["truncated zip"] = (bad_zip, "corrupt or truncated")
    foreign_zip = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign_zip, "w") as zf:
        zf.writestr("readme.txt", "hello")
    out["foreign zip"] = (foreign_zip, "missing manifest.json")
    return out


BAD = ["truncated", "corrupt", "foreign", "future version", "invalid strategy", "bad row", "truncated zip",
       "foreign zip"]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_is_refused_and_changes_nothing(curated: MemoryStore, tmp_path, case: str) -> None:
    curated.export_memory(tmp_path / "good.json")
    path, fragment = bad_files(tmp_path, json.loads((tmp_path / "good.json").read_text()))[case]
    curated.export_memory(tmp_path / "before.json")
    with pytest.raises(MemoryImportError, match=re.escape(fragment)):
        curated.import_memory(path)
    curated.export_memory(tmp_path / "after.json")
    assert (tmp_path / "before.json").read_text() == (tmp_path / "after.json").read_text()
    assert len(curated.op_log(actor="import")) == 0
