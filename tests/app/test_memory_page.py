"""The Memory page (AppTest): grid edits become audited ops, undo, review queue, prune, import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egur_core.app.services import open_memory
from egur_core.memory.ops import AddEntry, AddNote, DeleteEntry, UpdateEntry

PAGE = "pages/memory.py"


def store_of(path: Path):
    return open_memory(path).session()


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.fixture
def memory_db(populated_db: Path) -> Path:
    """The demo memory (real loop, simulated model) plus two entries a person added through ops."""
    with store_of(populated_db) as store:
        hashes = store.list_strategies()["hash"].tolist()[:2]
        store.apply_many([AddEntry(signature=f"hand-made entry {i}", benchmark="sat3",
                                   strategy=store.strategy_row(h)["json"]) for i, h in enumerate(hashes)], "person")
    return populated_db


def test_empty_memory_explains_what_to_do(empty_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert "No proposals waiting" in texts(at.info)
    assert "audit log is empty" in texts(at.info)
    assert any("No entries yet" in c.value for c in at.caption)


def test_edit_and_delete_entries_in_one_transaction_then_undo(memory_db, open_page):
    at = open_page(PAGE)
    with store_of(memory_db) as store:
        before = store.list_entries()
    assert len(before) >= 2
    first, second = int(before.iloc[0]["entry_id"]), int(before.iloc[1]["entry_id"])
    at.session_state["entries_editor"] = {"edited_rows": {0: {"signature": "Edited in a test", "pinned": True}},
                                          "added_rows": [], "deleted_rows": [1]}
    at.run()
    assert "2 pending change(s)" in texts(at.markdown)
    at.button(key="entries_save").click().run()
    assert not at.exception and "Saved 2 change(s)" in texts(at.success)
    with store_of(memory_db) as store:
        entry = store.get_entry(first)
        assert entry["signature"] == "Edited in a test" and entry["pinned"] is True
        assert store.get_entry(second) is None
        log = store.op_log(2)
    assert set(log["actor"]) == {"person"} and log["batch_id"].nunique() == 1  # one apply_many batch
    update_op = int(log[log["kind"] == "update_entry"]["op_id"].iloc[0])
    at.button(key=f"undo_{update_op}").click().run()
    assert f"Undid op {update_op}" in texts(at.success)
    with store_of(memory_db) as store:
        assert store.get_entry(first)["signature"] == before.iloc[0]["signature"]


def test_add_a_note_from_the_grid(memory_db, open_page):
    at = open_page(PAGE)
    at.session_state["notes_editor"] = {"edited_rows": {}, "deleted_rows": [],
                                        "added_rows": [{"text": "Prefer the SAT solver.", "benchmark": "sat3"}]}
    at.run()
    at.button(key="notes_save").click().run()
    with store_of(memory_db) as store:
        notes = store.list_notes(search="Prefer the SAT solver")
    assert len(notes) == 1 and notes.iloc[0]["benchmark"] == "sat3"


def test_invalid_edit_is_a_warning_and_nothing_is_saved(memory_db, open_page):
    at = open_page(PAGE)
    at.session_state["entries_editor"] = {"edited_rows": {0: {"signature": ""}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert "cannot be empty" in texts(at.warning)
    assert not [b for b in at.button if b.key == "entries_save"]


def test_undo_refused_is_a_clear_message(memory_db, open_page):
    with store_of(memory_db) as store:
        entry_id = int(store.list_entries().iloc[0]["entry_id"])
        first = store.apply(UpdateEntry(entry_id=entry_id, signature="one"), "person")
        store.apply(UpdateEntry(entry_id=entry_id, signature="two"), "person")
    at = open_page(PAGE)
    at.button(key=f"undo_{first}").click().run()
    assert not at.exception
    assert "Undo refused" in texts(at.error) and "undo that first" in texts(at.error)
    with store_of(memory_db) as store:
        assert store.get_entry(entry_id)["signature"] == "two"


def test_review_queue_approve_edit_and_reject(memory_db, open_page):
    with store_of(memory_db) as store:
        entry_id = int(store.list_entries().iloc[0]["entry_id"])
        p1, p2, p3 = store.propose([AddNote(text="Queued insight."), UpdateEntry(entry_id=entry_id, banned=True),
                                    AddNote(text="Draft")])
    at = open_page(PAGE)
    assert "Review queue (3)" in [t.label for t in at.tabs]
    diffs = [df.value for df in at.dataframe if list(df.value.columns) == ["field", "now", "proposed"]]
    assert any((d["proposed"] == "true").any() and (d["now"] == "false").any() for d in diffs)
    at.button(key=f"approve_{p1}").click().run()
    assert "Approved 1 proposal(s)" in texts(at.success)
    at.button(key=f"reject_{p2}").click().run()
    at.text_area(key=f"proposal_json_{p3}").set_value('{"op": "add_note", "text": "Edited draft"}')
    at.button(key=f"approve_edited_{p3}").click().run()
    with store_of(memory_db) as store:
        assert len(store.list_notes(search="Queued insight.")) == 1
        assert store.get_entry(entry_id)["banned"] is False
        assert len(store.list_notes(search="Edited draft")) == 1
        assert store.pending_proposals() == []
        assert {p.status for p in store.proposals()} == {"approved", "rejected"}


def test_review_queue_is_grouped_by_problem_and_decided_in_bulk(memory_db, open_page):
    with store_of(memory_db) as store:
        run_id = store.list_runs().iloc[0]["run_id"]
        first = store.propose([AddNote(text="from problem one a"), AddNote(text="from problem one b")], run_id, 0)
        second = store.propose([AddNote(text="from problem two")], run_id, 1)
    at = open_page(PAGE)
    groups = [m.value for m in at.markdown if "proposal(s)" in m.value and "problem #" in m.value]
    assert groups == [f"run `{run_id}` problem #1 · 2 proposal(s)", f"run `{run_id}` problem #2 · 1 proposal(s)"]
    at.button(key=f"approve_group_{run_id}_1").click().run()
    assert "Approved 2 proposal(s)" in texts(at.success)
    at.button(key="reject_all").click().run()
    with store_of(memory_db) as store:
        status = {p.proposal_id: p.status for p in store.proposals()}
    assert [status[i] for i in first] == ["approved", "approved"] and status[second[0]] == "rejected"


def test_duplicates_set_aside_by_the_parallel_rule_are_listed_apart_from_the_queue(memory_db, open_page):
    with store_of(memory_db) as store:
        run_id = store.list_runs().iloc[0]["run_id"]
        read_at = store.last_op_id()  # problem 3 reads the memory here
        strategy = store.strategy_row(store.list_strategies()["hash"].iloc[0])["json"]
        store.apply(AddEntry(signature="cached by problem 2", strategy=strategy, benchmark="sat3"), "consolidator",
                    run_id, 1)
        store.apply_problem_ops([AddEntry(signature="cached again by problem 3", strategy=strategy, benchmark="sat3")],
                                run_id, 2, read_at=read_at)
    at = open_page(PAGE)
    [box] = [e for e in at.expander if e.label.startswith("Set aside as duplicates")]
    assert box.label == "Set aside as duplicates (1)"
    [row] = box.dataframe[0].value.to_dict("records")
    assert row["problem"] == 3 and row["signature"] == "cached again by problem 3"
    assert "(problem 2) cached the same strategy" in row["why"]
    assert not any("proposal(s) from" in m.value for m in at.markdown)  # nothing waits in the queue


def test_a_bulk_approval_skips_a_stale_proposal_and_says_so(memory_db, open_page):
    with store_of(memory_db) as store:
        entry_id = int(store.list_entries().iloc[0]["entry_id"])
        stale, fine = store.propose([UpdateEntry(entry_id=entry_id, banned=True), AddNote(text="still fine")])
        store.apply(DeleteEntry(entry_id=entry_id), "person")  # the stale one's entry is gone
    at = open_page(PAGE)
    at.button(key="approve_all").click().run()
    assert not at.exception
    assert "Approved 1 proposal(s)" in texts(at.warning) and f"proposal {stale}" in texts(at.warning)
    with store_of(memory_db) as store:
        status = {p.proposal_id: p.status for p in store.proposals()}
    assert status == {stale: "pending", fine: "approved"}


def test_audit_log_shows_each_ops_before_and_after_and_filters_by_entry(memory_db, open_page):
    with store_of(memory_db) as store:
        entry_id = int(store.list_entries().iloc[0]["entry_id"])
        op_id = store.apply(UpdateEntry(entry_id=entry_id, signature="renamed by a person"), "person")
    at = open_page(PAGE)
    at.selectbox(key="log_kind").set_value("entry").run()
    at.number_input(key="log_item").set_value(entry_id).run()
    shown = [b.key for b in at.button if b.key and b.key.startswith("undo_") and b.key[5:].isdigit()]
    with store_of(memory_db) as store:
        touching = [int(o) for o in store.op_log(1000)["op_id"]
                    if str(entry_id) in json.loads(store.op_log(1000).set_index("op_id").loc[o, "after"]).get(
                        "entry", {}) or str(entry_id) in json.loads(
                        store.op_log(1000).set_index("op_id").loc[o, "before"]).get("entry", {})]
    assert sorted(int(k[5:]) for k in shown) == sorted(touching) and op_id in touching
    assert not [d for d in at.dataframe if list(d.value.columns) == ["item", "field", "before", "after"]]
    at.session_state[f"op_{op_id}"] = True  # a person opens that op: its diff is drawn
    at.run()
    diff = next(d.value for d in at.dataframe if list(d.value.columns) == ["item", "field", "before", "after"]
                and (d.value["after"] == "renamed by a person").any())
    assert diff.iloc[0]["item"] == f"entry {entry_id}" and diff.iloc[0]["field"] == "signature"


def test_undo_batch_starts_with_no_batch_chosen(memory_db, open_page):
    at = open_page(PAGE)
    assert at.selectbox(key="undo_batch").value is None
    assert at.button(key="undo_batch_go").disabled


def test_approve_edited_with_bad_json_is_refused(memory_db, open_page):
    with store_of(memory_db) as store:
        (pid,) = store.propose([AddNote(text="x")])
    at = open_page(PAGE)
    at.text_area(key=f"proposal_json_{pid}").set_value("{not json")
    at.button(key=f"approve_edited_{pid}").click().run()
    assert "edited JSON is invalid" in texts(at.error)
    with store_of(memory_db) as store:
        assert len(store.pending_proposals()) == 1


def test_prune_previews_then_confirms_in_a_dialog(memory_db, open_page):
    with store_of(memory_db) as store:
        entries = store.list_entries()
        keep = int(entries.iloc[0]["entry_id"])
        store.apply(UpdateEntry(entry_id=keep, pinned=True), "person")
    at = open_page(PAGE)
    assert "Pick at least one criterion" in texts(at.info)
    at.number_input(key="prune_days").set_value(0.0).run()
    assert f"{len(entries) - 1} entries match" in texts(at.markdown)
    at.button(key="prune_open_btn").click().run()
    assert "unpinned entries" in texts(at.markdown)  # the confirmation dialog
    at.button(key="prune_confirm").click().run()
    assert not at.exception and "Pruned" in texts(at.success)
    with store_of(memory_db) as store:
        assert store.list_entries()["entry_id"].tolist() == [keep]
        batch = store.op_log(1)["batch_id"].iloc[0]
        store.undo_batch(batch)
        assert len(store.list_entries()) == len(entries)


def test_corrupt_import_is_refused_and_changes_nothing(memory_db, open_page):
    with store_of(memory_db) as store:
        before = (len(store.list_entries()), len(store.list_notes()), len(store.op_log(1000)))
    at = open_page(PAGE)
    truncated = b'{"format": "egur-memory", "vers'
    at.file_uploader(key="import_file").set_value(("memory.json", truncated, "application/json"))
    at.run()
    at.button(key="import_go").click().run()
    assert not at.exception
    assert "Import refused, nothing was changed" in texts(at.error) and "memory.json" in texts(at.error)
    with store_of(memory_db) as store:
        assert (len(store.list_entries()), len(store.list_notes()), len(store.op_log(1000))) == before


def test_export_then_import_round_trip(memory_db, open_page, tmp_path):
    with store_of(memory_db) as store:
        exported = store.export_memory(tmp_path / "mem.json")
        n = len(store.list_entries())
    at = open_page(PAGE)
    assert at.get("download_button")
    at.file_uploader(key="import_file").set_value(("mem.json", exported.read_bytes(), "application/json"))
    at.run()
    at.radio(key="import_mode").set_value("replace")
    at.button(key="import_go").click().run()
    assert f"Imported {n} entries" in texts(at.success)
    assert json.loads(exported.read_text())["format"] == "egur-memory"


def test_provenance_shows_origin_and_measured_usefulness(memory_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"Retrieved", "Accuracy when retrieved", "Accuracy without"} <= labels
    assert "Created by" in texts(at.markdown)
    with store_of(memory_db) as store:
        made_in_run = int(store.list_entries().query("created_run_id.notna()").iloc[0]["entry_id"])
        idx = int(store.get_entry(made_in_run)["created_idx"])
    at.selectbox(key="prov_entry").set_value(made_in_run).run()
    assert f"problem #{idx + 1}" in texts(at.markdown)  # numbered from 1, as everywhere
    deltas = [m.proto.delta for m in at.metric if m.label == "Accuracy when retrieved" and m.proto.delta]
    assert all(d.endswith("pp vs without") for d in deltas)  # percentage points, not a relative %
