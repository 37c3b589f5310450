from __future__ import annotations

import duckdb
import pytest

from egur_core.memory.ops import (
    AddEntry,
    AddNote,
    DeleteEntry,
    DeleteNote,
    MergeEntries,
    MergeNotes,
    RateNote,
    UpdateEntry,
    UpdateNote,
)
from egur_core.memory.records import MemoryOpError
from egur_core.memory.store import MemoryStore
from tests.memory import store, strategy_dict  # noqa: F401


def state(s: MemoryStore) -> tuple:
    """Curated state of library and notes, for before/after comparisons."""
    entries = s.query("SELECT entry_id, signature, benchmark, strategy_hash, uses, successes, pinned, banned "
                      "FROM library ORDER BY entry_id")
    notes = s.query("SELECT note_id, text, helpful, harmful, pinned, banned FROM notes ORDER BY note_id")
    return entries, notes


@pytest.fixture
def seeded(store: MemoryStore) -> MemoryStore:  # noqa: F811
    """Entries 1-3 and notes 1-3, with some usage on entries 2 and 3."""
    store.apply_many([AddEntry(signature=f"kind {i} problems", strategy=strategy_dict(f"s{i}")) for i in (1, 2, 3)]
                     + [AddNote(text=f"note {i}") for i in (1, 2, 3)], actor="consolidator")
    store.record_entry_outcome(2, True, 0.5)
    store.record_entry_outcome(3, False, 0.25)
    return store


OPS = [
    AddEntry(signature="new kind", strategy=strategy_dict("fresh")),
    UpdateEntry(entry_id=1, signature="renamed", strategy=strategy_dict("v2"), pinned=True),
    MergeEntries(keep_id=2, drop_ids=[3], signature="kinds 2 and 3"),
    DeleteEntry(entry_id=2),
    AddNote(text="a new insight"),
    UpdateNote(note_id=1, text="reworded", banned=True),
    MergeNotes(keep_id=1, drop_ids=[2, 3], text="merged"),
    DeleteNote(note_id=2),
    RateNote(note_id=1, helpful=2, harmful=1),
]


@pytest.mark.parametrize("op", OPS, ids=[op.op for op in OPS])
def test_each_op_changes_memory_and_undo_restores_it(seeded: MemoryStore, op) -> None:
    before = state(seeded)
    op_id = seeded.apply(op, actor="person")
    assert state(seeded) != before
    seeded.undo(op_id)
    assert state(seeded) == before


def test_merge_folds_stats_into_the_kept_entry(seeded: MemoryStore) -> None:
    seeded.apply(MergeEntries(keep_id=2, drop_ids=[3]), actor="person")
    kept = seeded.get_entry(2)
    assert (kept["uses"], kept["successes"], kept["total_cost"]) == (2, 1, 0.75)
    assert seeded.get_entry(3) is None


def test_undo_of_a_merge_keeps_usage_recorded_since(seeded: MemoryStore) -> None:
    op_id = seeded.apply(MergeEntries(keep_id=2, drop_ids=[3]), actor="person")
    seeded.record_entry_outcome(2, True, 1.0)
    seeded.undo(op_id)
    assert seeded.get_entry(2)["uses"] == 2 and seeded.get_entry(3)["uses"] == 1


def test_update_with_new_strategy_links_the_version_to_its_parent(seeded: MemoryStore) -> None:
    old_hash = seeded.get_entry(1)["strategy_hash"]
    seeded.apply(UpdateEntry(entry_id=1, strategy=strategy_dict("v2")), actor="consolidator")
    new_hash = seeded.get_entry(1)["strategy_hash"]
    assert seeded.strategy_row(new_hash)["parent_hash"] == old_hash
    assert [r["relation"] for r in seeded.lineage(new_hash)] == ["ancestor", "self"]


def test_apply_many_is_all_or_nothing(seeded: MemoryStore) -> None:
    before, log_before = state(seeded), len(seeded.op_log())
    with pytest.raises(MemoryOpError, match="no such entry 99"):
        seeded.apply_many([AddNote(text="would be added"), DeleteEntry(entry_id=99)], actor="consolidator")
    assert state(seeded) == before and len(seeded.op_log()) == log_before


def test_invalid_strategy_is_refused_with_its_issues(store: MemoryStore) -> None:  # noqa: F811
    bad = {"name": "x", "steps": [{"id": "final", "op": "answer", "from": "nowhere"}]}
    with pytest.raises(MemoryOpError, match="invalid strategy"):
        store.apply(AddEntry(signature="s", strategy=bad), actor="consolidator")


def test_an_op_given_as_a_dict_is_validated(store: MemoryStore) -> None:  # noqa: F811
    store.apply({"op": "add_note", "text": "from JSON"}, actor="consolidator")
    with pytest.raises(MemoryOpError, match="not a valid memory op"):
        store.apply({"op": "add_note"}, actor="consolidator")


def test_undo_twice_is_refused(seeded: MemoryStore) -> None:
    op_id = seeded.apply(DeleteNote(note_id=1), actor="person")
    undo_id = seeded.undo(op_id)
    with pytest.raises(MemoryOpError, match=f"already undone by op {undo_id}"):
        seeded.undo(op_id)


def test_undo_is_refused_when_the_rows_changed_since(seeded: MemoryStore) -> None:
    first = seeded.apply(UpdateNote(note_id=1, text="first edit"), actor="person")
    second = seeded.apply(UpdateNote(note_id=1, text="second edit"), actor="person")
    with pytest.raises(MemoryOpError, match=f"note 1 changed since by op {second}"):
        seeded.undo(first)
    seeded.undo(second)
    seeded.undo(first)
    assert seeded.get_note(1)["text"] == "note 1"


def test_undo_is_refused_when_the_row_was_deleted_since(seeded: MemoryStore) -> None:
    add = seeded.apply(AddNote(text="short-lived"), actor="consolidator")
    seeded.apply(DeleteNote(note_id=4), actor="person")
    with pytest.raises(MemoryOpError, match="note 4 was deleted since"):
        seeded.undo(add)


def test_undo_of_an_unknown_op_is_refused(store: MemoryStore) -> None:  # noqa: F811
    with pytest.raises(MemoryOpError, match="no memory op 42"):
        store.undo(42)


def test_deleted_ids_are_never_reused(seeded: MemoryStore) -> None:
    seeded.apply(DeleteNote(note_id=3), actor="person")
    seeded.apply(AddNote(text="new"), actor="person")
    assert seeded.list_notes()["note_id"].max() == 4


def test_consolidator_cannot_delete_a_pinned_item(seeded: MemoryStore) -> None:
    seeded.apply(UpdateEntry(entry_id=1, pinned=True), actor="person")
    with pytest.raises(MemoryOpError, match="entry 1 is pinned"):
        seeded.apply(DeleteEntry(entry_id=1), actor="consolidator")
    seeded.apply(DeleteEntry(entry_id=1), actor="person")


def test_caps_evict_the_least_useful_unpinned_entries() -> None:
    s = MemoryStore(duckdb.connect(":memory:"), max_entries=3)
    s.apply_many([AddEntry(signature=f"e{i}", strategy=strategy_dict(f"s{i}")) for i in range(3)], "consolidator")
    s.apply(UpdateEntry(entry_id=1, pinned=True), actor="person")  # oldest, but pinned
    s.record_entry_outcome(2, True, 0.1)  # useful
    s.apply(AddEntry(signature="e3", strategy=strategy_dict("s3")), actor="consolidator")
    assert sorted(s.list_entries()["entry_id"]) == [1, 2, 4]
    eviction = s.op_log(limit=1).iloc[0]
    assert (eviction["actor"], eviction["kind"], '"size cap"' in eviction["payload"]) == ("loop", "delete_entry", True)


def test_caps_evict_notes_by_helpful_minus_harmful() -> None:
    s = MemoryStore(duckdb.connect(":memory:"), max_notes=2)
    s.apply_many([AddNote(text="good"), AddNote(text="bad")], "consolidator")
    s.apply(RateNote(note_id=2, harmful=3), actor="consolidator")
    s.apply(AddNote(text="newest"), actor="consolidator")
    assert sorted(s.list_notes()["text"]) == ["good", "newest"]


def test_undo_batch_reverts_an_apply_many(seeded: MemoryStore) -> None:
    before = state(seeded)
    seeded.apply_many([DeleteNote(note_id=1), DeleteEntry(entry_id=2)], actor="person")
    batch = seeded.op_log(limit=1)["batch_id"].iloc[0]
    seeded.undo_batch(batch)
    assert state(seeded) == before


def test_op_log_records_before_and_after(seeded: MemoryStore) -> None:
    seeded.apply(UpdateNote(note_id=1, text="changed"), actor="person", run_id="r1", idx=4)
    row = seeded.op_log(limit=1).iloc[0]
    assert (row["actor"], row["run_id"], row["idx"]) == ("person", "r1", 4)
    assert '"note 1"' in row["before"] and '"changed"' in row["after"]
