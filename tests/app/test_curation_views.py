"""Review in bulk and by problem, op diffs, item filters and batches to undo."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.app.curation_views import (
    batch_label,
    decide_many,
    group_by_problem,
    op_diff,
    op_page,
    points,
    undoable_batches,
)
from egur_core.memory.ops import AddNote, DeleteNote, UpdateNote
from egur_core.memory.store import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


def test_proposals_group_by_the_problem_that_made_them_numbered_from_one(store):
    store.propose([AddNote(text="a"), AddNote(text="b")], "run-1", 0)
    store.propose([AddNote(text="c")], "run-1", 4)
    store.propose([AddNote(text="d")])
    groups = group_by_problem(store.pending_proposals())
    assert [(g.run_id, g.number, len(g.proposals)) for g in groups] == [("run-1", 1, 2), ("run-1", 5, 1),
                                                                       (None, None, 1)]
    assert groups[0].label == "run `run-1` problem #1 · 2 proposal(s)" and groups[2].label.startswith("no run")


def test_deciding_many_applies_what_still_applies_and_reports_the_rest(store):
    store.apply(AddNote(text="x"), "person")
    note_id = int(store.list_notes().iloc[0]["note_id"])
    stale, fine = store.propose([UpdateNote(note_id=note_id, text="y"), AddNote(text="z")])
    store.apply(DeleteNote(note_id=note_id), "person")
    done, problems = decide_many(store, [stale, fine], approve=True)
    assert len(done) == 1 and len(problems) == 1 and problems[0].startswith(f"proposal {stale}")
    assert {p.proposal_id: p.status for p in store.proposals()} == {stale: "pending", fine: "approved"}


def test_op_diff_lists_changed_fields_and_whole_items_when_created_or_deleted(store):
    add = store.apply(AddNote(text="first"), "person")
    note_id = int(store.list_notes().iloc[0]["note_id"])
    edit = store.apply(UpdateNote(note_id=note_id, text="second", pinned=True), "person")
    log = op_page(store, 10).set_index("op_id")
    changed = op_diff(log.loc[edit, "before"], log.loc[edit, "after"])
    assert set(changed["field"]) == {"text", "pinned"}
    assert changed.set_index("field").loc["text"].tolist() == [f"note {note_id}", "first", "second"]
    created = op_diff(log.loc[add, "before"], log.loc[add, "after"])
    assert (created["before"] == "(absent)").all() and "text" in set(created["field"])
    assert not {"embedding", "created_at"} & set(created["field"])


def test_the_log_filters_by_entry_or_note(store):
    store.apply(AddNote(text="one"), "person")
    store.apply(AddNote(text="two"), "person")
    ids = sorted(int(i) for i in store.list_notes()["note_id"])
    store.apply(UpdateNote(note_id=ids[0], text="one, edited"), "person")
    only_first = op_page(store, 50, item=("note", ids[0]))
    assert len(only_first) == 2 and len(op_page(store, 50, item=("note", ids[1]))) == 1
    assert op_page(store, 50, item=("entry", ids[0])).empty


def test_batches_to_undo_are_described_and_undone_ones_drop_out(store):
    store.apply_many([AddNote(text="a"), AddNote(text="b")], "person")
    batches = undoable_batches(store)
    assert len(batches) == 1 and batches.iloc[0]["ops"] == 2
    label = batch_label(batches.iloc[0].to_dict())
    assert "2 op(s): add_note" in label and "person" in label
    store.undo_batch(batches.iloc[0]["batch_id"])
    assert undoable_batches(store).empty


def test_differences_of_shares_are_percentage_points():
    assert points(0.41) == "+41 pp" and points(-0.05) == "-5 pp" and points(None) is None
