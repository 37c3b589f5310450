from __future__ import annotations

import pytest

from egur_core.memory.ops import AddEntry, AddNote, UpdateEntry
from egur_core.memory.records import MemoryOpError, PruneRule
from egur_core.memory.store import MemoryStore
from tests.memory import store, strategy_dict  # noqa: F401


def test_proposals_wait_for_a_person(store: MemoryStore) -> None:  # noqa: F811
    ids = store.propose([AddNote(text="maybe useful")], run_id="r", idx=3)
    assert [p.proposal_id for p in store.pending_proposals()] == ids
    assert store.list_notes().empty


def test_approve_applies_as_person(store: MemoryStore) -> None:  # noqa: F811
    [pid] = store.propose([AddNote(text="maybe useful")], run_id="r", idx=3)
    op_id = store.approve(pid)
    row = store.op_log(limit=1).iloc[0]
    assert (row["op_id"], row["actor"], row["idx"]) == (op_id, "person", 3)
    assert store.pending_proposals() == [] and store.proposals("approved")[0].applied_op_id == op_id


def test_approve_with_an_edited_op_applies_the_edit(store: MemoryStore) -> None:  # noqa: F811
    [pid] = store.propose([AddNote(text="draft")])
    store.approve(pid, edited_op={"op": "add_note", "text": "edited by a person"})
    assert list(store.list_notes()["text"]) == ["edited by a person"]
    assert store.proposals("approved")[0].note == "edited"


def test_reject_changes_nothing_and_cannot_be_approved_later(store: MemoryStore) -> None:  # noqa: F811
    [pid] = store.propose([AddNote(text="bad idea")])
    store.reject(pid, note="wrong")
    assert store.list_notes().empty
    with pytest.raises(MemoryOpError, match="already rejected"):
        store.approve(pid)


@pytest.fixture
def used(store: MemoryStore) -> MemoryStore:  # noqa: F811
    """Entries 1..4: 1 and 2 fail often, 3 succeeds, 4 is unused; 2 is pinned."""
    adds = [AddEntry(signature=f"e{i}", strategy=strategy_dict(f"s{i}")) for i in range(1, 5)]
    store.apply_many(adds, "consolidator")
    for entry_id, results in {1: [0, 0, 0], 2: [0, 0, 1], 3: [1, 1, 1]}.items():
        for ok in results:
            store.record_entry_outcome(entry_id, bool(ok), 0.1)
    store.apply(UpdateEntry(entry_id=2, pinned=True), actor="person")
    return store


def test_prune_deletes_exactly_what_the_preview_shows(used: MemoryStore) -> None:
    rule = PruneRule(max_success_rate=0.5, min_uses=2)
    preview = list(used.prune_preview(rule)["entry_id"])
    used.prune(rule)
    assert preview == [1]
    assert sorted(used.list_entries()["entry_id"]) == [2, 3, 4]


def test_prune_never_deletes_pinned(used: MemoryStore) -> None:
    used.prune(PruneRule(never_retrieved=True))
    assert list(used.list_entries()["entry_id"]) == [2]


def test_prune_is_undoable_as_a_batch(used: MemoryStore) -> None:
    before = sorted(used.list_entries()["entry_id"])
    op_ids = used.prune(PruneRule(never_retrieved=True))
    batch = used.op_log(limit=1)["batch_id"].iloc[0]
    assert len(op_ids) == 3
    used.undo_batch(batch)
    assert sorted(used.list_entries()["entry_id"]) == before


def test_prune_without_criteria_is_refused(used: MemoryStore) -> None:
    with pytest.raises(MemoryOpError, match="at least one criterion"):
        used.prune(PruneRule())


def test_prune_notes_by_rating(store: MemoryStore) -> None:  # noqa: F811
    store.apply_many([AddNote(text="helps"), AddNote(text="hurts")], "consolidator")
    store.apply_many([{"op": "rate_note", "note_id": 1, "helpful": 3},
                      {"op": "rate_note", "note_id": 2, "harmful": 3}], "consolidator")
    store.prune(PruneRule(kind="notes", max_success_rate=0.2))
    assert list(store.list_notes()["text"]) == ["helps"]
