"""Grid edit state -> memory ops, proposal diffs and measured usefulness (pure functions)."""

from __future__ import annotations

import pandas as pd
import pytest

from egur_core.app.memory_editing import (
    EditError,
    choice_hash,
    diff_to_ops,
    entries_frame,
    notes_frame,
    strategy_choice,
)
from egur_core.app.memory_views import describe_op, proposal_diff, touched_items, usefulness
from egur_core.memory.ops import AddEntry, AddNote, DeleteEntry, DeleteNote, UpdateEntry, UpdateNote

STRATEGY = {"name": "cot", "steps": [{"id": "t", "op": "llm", "prompt": "{problem}", "out": "r"},
                                     {"id": "a", "op": "answer", "from": "r"}]}


@pytest.fixture
def entries() -> pd.DataFrame:
    raw = pd.DataFrame([
        {"entry_id": 11, "signature": "sat problems", "benchmark": "sat3", "strategy_hash": "aaaa", "strategy_name":
         "solver", "uses": 4, "successes": 3, "success_rate": 0.75, "mean_cost": 0.001, "retrievals": 9,
         "pinned": False, "banned": False},
        {"entry_id": 12, "signature": "counting", "benchmark": "bbeh", "strategy_hash": "bbbb", "strategy_name": "cot",
         "uses": 0, "successes": 0, "success_rate": None, "mean_cost": None, "retrievals": 0,
         "pinned": True, "banned": False}])
    return entries_frame(raw)


@pytest.fixture
def notes() -> pd.DataFrame:
    return notes_frame(pd.DataFrame([{"note_id": 5, "text": "Check parity.", "benchmark": "sat3", "helpful": 2,
                                      "harmful": 0, "retrievals": 3, "pinned": False, "banned": False}]))


def test_frames_have_range_index_int_ids_and_strategy_choice(entries):
    assert list(entries.index) == [0, 1]
    assert str(entries["entry_id"].dtype) == "Int64"
    assert entries.loc[0, "strategy"] == "solver · aaaa"
    assert choice_hash(strategy_choice("solver", "aaaa")) == "aaaa"


def test_empty_frames_keep_their_columns():
    assert "signature" in entries_frame(pd.DataFrame()).columns
    assert "text" in notes_frame(pd.DataFrame()).columns


def test_no_state_means_no_ops(entries):
    assert diff_to_ops(entries, None) == []
    assert diff_to_ops(entries, {"edited_rows": {}, "added_rows": [], "deleted_rows": []}) == []


def test_edit_becomes_update_with_only_changed_fields(entries):
    ops = diff_to_ops(entries, {"edited_rows": {"1": {"signature": " counting objects ", "pinned": True}}})
    assert ops == [UpdateEntry(entry_id=12, signature="counting objects", reason="edited in the dashboard")]


def test_pin_and_ban_flags(entries):
    ops = diff_to_ops(entries, {"edited_rows": {0: {"pinned": True, "banned": True}}})
    assert ops[0].pinned is True and ops[0].banned is True and ops[0].signature is None


def test_delete_uses_position_to_find_id_and_wins_over_edit(entries):
    ops = diff_to_ops(entries, {"edited_rows": {0: {"signature": "x"}}, "deleted_rows": [0]})
    assert ops == [DeleteEntry(entry_id=11, reason="deleted in the dashboard")]


def test_order_is_deletes_updates_adds(entries):
    state = {"deleted_rows": [1], "edited_rows": {0: {"banned": True}},
             "added_rows": [{"signature": "new", "strategy": "cot · bbbb", "benchmark": "bbeh"}]}
    ops = diff_to_ops(entries, state, strategies={"bbbb": STRATEGY})
    assert [type(o) for o in ops] == [DeleteEntry, UpdateEntry, AddEntry]
    assert ops[2].strategy == STRATEGY and ops[2].benchmark == "bbeh"


def test_strategy_change_on_existing_entry(entries):
    ops = diff_to_ops(entries, {"edited_rows": {0: {"strategy": "cot · bbbb"}}}, strategies={"bbbb": STRATEGY})
    assert ops[0].strategy == STRATEGY


@pytest.mark.parametrize("state, message", [
    ({"edited_rows": {0: {"signature": "  "}}}, "cannot be empty"),
    ({"edited_rows": {0: {"benchmark": "other"}}}, "only new rows"),
    ({"added_rows": [{"signature": "s"}]}, "pick the strategy"),
    ({"added_rows": [{"strategy": "cot · bbbb"}]}, "fill in the signature"),
    ({"added_rows": [{"signature": "s", "strategy": "zz · nope"}]}, "unknown strategy"),
    ({"added_rows": [{"signature": "s", "strategy": "cot · bbbb", "pinned": True}]}, "save it first"),
    ({"deleted_rows": [7]}, "no longer in the table"),
])
def test_bad_rows_raise_edit_error_naming_the_fix(entries, state, message):
    with pytest.raises(EditError, match=message):
        diff_to_ops(entries, state, strategies={"bbbb": STRATEGY})


def test_blank_added_row_is_ignored(entries):
    assert diff_to_ops(entries, {"added_rows": [{"signature": None, "strategy": None}]}) == []


def test_notes_edit_add_delete(notes):
    state = {"edited_rows": {0: {"text": "Check parity first."}}, "added_rows": [{"text": "Use the solver."}],
             "deleted_rows": []}
    assert diff_to_ops(notes, state, kind="notes") == [
        UpdateNote(note_id=5, text="Check parity first.", reason="edited in the dashboard"),
        AddNote(text="Use the solver.", benchmark="", reason="added in the dashboard")]
    assert diff_to_ops(notes, {"deleted_rows": [0]}, kind="notes") == [
        DeleteNote(note_id=5, reason="deleted in the dashboard")]


def test_unchanged_value_makes_no_op(notes):
    assert diff_to_ops(notes, {"edited_rows": {0: {"text": "Check parity.", "pinned": False}}}, kind="notes") == []


def test_describe_op_is_one_readable_line():
    assert describe_op(UpdateEntry(entry_id=3, pinned=True)) == "update entry 3: pinned=True"
    assert describe_op({"op": "merge_notes", "keep_id": 1, "drop_ids": [2, 3]}) == "merge note 1: absorbs 2, 3"
    assert describe_op(AddEntry(signature="s", strategy=STRATEGY)).startswith("add entry: signature=s")


def test_proposal_diff_for_update_shows_now_and_proposed():
    op = {"op": "update_entry", "entry_id": 3, "signature": "new sig", "pinned": True}
    assert touched_items(op) == ["entry 3"]
    diff = proposal_diff(op, {"entry 3": {"signature": "old sig", "pinned": False}})
    assert diff.to_dict("records") == [{"field": "signature", "now": "old sig", "proposed": "new sig"},
                                       {"field": "pinned", "now": "false", "proposed": "true"}]


def test_proposal_diff_for_add_delete_merge_and_gone_items():
    add = proposal_diff({"op": "add_note", "text": "t", "benchmark": "b"}, {})
    assert add["now"].tolist() == ["", ""] and add["proposed"].tolist() == ["t", "b"]
    gone = proposal_diff({"op": "delete_note", "note_id": 9}, {"note 9": None})
    assert gone.iloc[0]["now"] == "(gone)"
    merge = proposal_diff({"op": "merge_entries", "keep_id": 1, "drop_ids": [2]},
                          {"entry 1": {"signature": "a"}, "entry 2": {"signature": "b"}})
    assert merge["proposed"].tolist() == ["kept", "merged into 1"]


def test_usefulness_compares_with_and_without_on_the_same_benchmark():
    problems = pd.DataFrame([
        {"run_id": "r", "idx": 0, "benchmark": "sat3", "correct": True, "cost_usd": 0.01},
        {"run_id": "r", "idx": 1, "benchmark": "sat3", "correct": True, "cost_usd": 0.01},
        {"run_id": "r", "idx": 2, "benchmark": "sat3", "correct": False, "cost_usd": 0.05},
        {"run_id": "r", "idx": 3, "benchmark": "bbeh", "correct": False, "cost_usd": 0.09},
    ])
    use = usefulness([{"run_id": "r", "idx": 0}, {"run_id": "r", "idx": 1}], problems, "sat3")
    assert (use["with_n"], use["without_n"]) == (2, 1)
    assert use["with_accuracy"] == 1.0 and use["without_accuracy"] == 0.0 and use["accuracy_delta"] == 1.0
    assert use["cost_delta"] == pytest.approx(-0.04)


def test_usefulness_with_nothing_to_compare():
    assert usefulness([], pd.DataFrame(), None)["accuracy_delta"] is None
