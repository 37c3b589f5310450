"""The Memory page's review queue and audit log (not a page; app.py lists the pages).

The queue is grouped by the problem that produced the proposals, a few problems per page, each
with bulk approve/reject; the log shows every op's before/after diff, filters by entry or note,
and undoes the batch a person chooses (none is preselected).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import streamlit as st

from egur_core.app.curation_views import (
    batch_label,
    decide_many,
    group_by_problem,
    op_diff,
    op_page,
    set_aside_table,
    undoable_batches,
)
from egur_core.app.memory_views import describe_op, proposal_diff, touched_items
from egur_core.app.text import markdown_escape
from egur_core.memory.records import MemoryOpError, Proposal
from pages.common import memory

GROUPS_PER_PAGE = 5


def flash(section: str, kind: str, text: str) -> None:
    st.session_state[f"flash_{section}"] = (kind, text)
    if kind == "success":
        st.toast(text, icon=":material/check_circle:")


def show_flash(section: str) -> None:
    kind, text = st.session_state.pop(f"flash_{section}", (None, None))
    if kind:
        getattr(st, kind)(text)


# -- review queue ---------------------------------------------------------------------------------
def decide(ids: list[int], approve: bool) -> None:
    with memory() as store:
        done, problems = decide_many(store, ids, approve, note="rejected in the dashboard")
    verb = "Approved" if approve else "Rejected"
    message = f"{verb} {len(done)} proposal(s)" + (f" (ops {', '.join(map(str, done))})" if approve and done else "")
    if problems:
        flash("review", "warning", message + ". Not applied: " + "; ".join(problems))
    else:
        flash("review", "success", message + ".")


def approve_edited(proposal_id: int) -> None:
    try:
        op = json.loads(st.session_state[f"proposal_json_{proposal_id}"])
        with memory() as store:
            op_id = store.approve(proposal_id, op)
        flash("review", "success", f"Approved proposal {proposal_id} (edited) as op {op_id}.")
    except json.JSONDecodeError as exc:
        flash("review", "error", f"Proposal {proposal_id} not approved: the edited JSON is invalid ({exc.msg}, "
                                 f"line {exc.lineno}).")
    except MemoryOpError as exc:
        flash("review", "error", f"Proposal {proposal_id} not approved: {exc}")


def _item(store, label: str) -> dict | None:
    noun, item_id = label.split()
    return store.get_entry(int(item_id)) if noun == "entry" else store.get_note(int(item_id))


def proposal_card(p: Proposal) -> None:
    with memory() as store:
        now = {label: _item(store, label) for label in touched_items(p.op)}
    st.caption(f"Why: {p.op.get('reason') or 'no reason given'}")
    st.dataframe(proposal_diff(p.op, now), hide_index=True, width="stretch")
    a, b, c = st.columns([1, 1, 4])
    a.button("Approve", key=f"approve_{p.proposal_id}", on_click=decide, args=([p.proposal_id], True))
    b.button("Reject", key=f"reject_{p.proposal_id}", on_click=decide, args=([p.proposal_id], False))
    with c.popover("Edit, then approve"):
        st.text_area("Op JSON", json.dumps(p.op, indent=2), height=200, key=f"proposal_json_{p.proposal_id}")
        st.button("Approve edited", key=f"approve_edited_{p.proposal_id}", on_click=approve_edited,
                  args=(p.proposal_id,))


def review_queue(proposals: list[Proposal]) -> None:
    show_flash("review")
    if not proposals:
        st.info("No proposals waiting. Runs started with review on (`egur run --review`, or the Run page's "
                "review option) queue the Consolidator's edits here instead of applying them.")
        return
    groups = group_by_problem(proposals)
    ids = [p.proposal_id for p in proposals]
    top = st.columns([3, 1, 1], vertical_alignment="center")
    top[0].markdown(f"**{len(proposals)}** proposal(s) from **{len(groups)}** problem(s)")
    top[1].button(f"Approve all {len(ids)}", key="approve_all", on_click=decide, args=(ids, True))
    top[2].button(f"Reject all {len(ids)}", key="reject_all", on_click=decide, args=(ids, False))
    pages = max(1, math.ceil(len(groups) / GROUPS_PER_PAGE))
    page = st.number_input(f"Page (of {pages})", 1, pages, key="review_page") if pages > 1 else 1
    for group in groups[(page - 1) * GROUPS_PER_PAGE: page * GROUPS_PER_PAGE]:
        with st.container(border=True):
            head = st.columns([4, 1, 1], vertical_alignment="center")
            head[0].markdown(group.label)
            mine = [p.proposal_id for p in group.proposals]
            key = f"{group.run_id}_{group.number}"
            head[1].button("Approve these", key=f"approve_group_{key}", on_click=decide, args=(mine, True))
            head[2].button("Reject these", key=f"reject_group_{key}", on_click=decide, args=(mine, False))
            if group.run_id and group.number:
                st.page_link("pages/problems.py", label="the problem that produced them", icon=":material/search:",
                             query_params={"run_id": group.run_id, "problem": str(group.number)})
            for p in group.proposals:
                with st.expander(f"#{p.proposal_id} · {markdown_escape(describe_op(p.op))}",
                                 expanded=len(group.proposals) <= 2):
                    proposal_card(p)


def set_aside() -> None:
    """What problems in flight at once would have cached twice: not in the queue, but not hidden either."""
    with memory() as store:
        duplicates = store.set_aside_duplicates()
    if not duplicates:
        return
    with st.expander(f"Set aside as duplicates ({len(duplicates)})", icon=":material/content_copy:"):
        st.caption("With several problems in flight, two may cache the same strategy before either sees the "
                   "other's entry. The later one is not added: its runs count for the entry named here.")
        st.dataframe(set_aside_table(duplicates), hide_index=True, width="stretch")


# -- audit log --------------------------------------------------------------------------------------
def undo(op_id: int | None = None, batch: str | None = None) -> None:
    try:
        with memory() as store:
            ids = store.undo_batch(batch) if batch else [store.undo(op_id)]
        flash("log", "success", f"Undid {'batch ' + batch if batch else 'op ' + str(op_id)} "
                                f"(logged as op {', '.join(map(str, ids))}).")
    except MemoryOpError as exc:
        flash("log", "error", f"Undo refused: {exc}. Nothing was changed.")


def log_filters() -> tuple[str | None, tuple | None, int]:
    c = st.columns([2, 2, 2, 2])
    actor = c[0].selectbox("Actor", ["all", "person", "consolidator", "loop", "import"], key="log_actor")
    kind = c[1].selectbox("Touching", ["anything", "entry", "note"], key="log_kind")
    item = c[2].number_input("id", 1, value=None, key="log_item", disabled=kind == "anything",
                             placeholder="entry or note id")
    limit = c[3].number_input("Show the last", 10, 500, 30, step=10, key="log_limit")
    return (None if actor == "all" else actor), ((kind, int(item)) if kind != "anything" and item else None), limit


def op_row(row: dict) -> None:
    payload = json.loads(row["payload"])
    what = f"undo of op {payload.get('undo_of')}" if row["kind"] == "undo" else markdown_escape(describe_op(payload))
    where = f" · run `{row['run_id']}` problem #{int(row['idx']) + 1}" if pd.notna(row["idx"]) and row["run_id"] else ""
    c = st.columns([1, 12, 2], vertical_alignment="center")
    c[0].markdown(f"`{row['op_id']}`")
    box = c[1].expander(f"{row['ts']:%Y-%m-%d %H:%M:%S} · {row['actor']} · {what}", key=f"op_{row['op_id']}",
                        on_change="rerun")
    if box.open:  # the diff is drawn only for the ops a person opens: thirty grids made the tab slow
        with box:
            st.caption(f"batch {row['batch_id'] if pd.notna(row['batch_id']) else '–'}{where}")
            st.dataframe(op_diff(row["before"], row["after"]), hide_index=True, width="stretch")
    done = pd.notna(row["undone_by"])
    c[2].button(f"undone by {int(row['undone_by'])}" if done else "Undo", key=f"undo_{row['op_id']}",
                disabled=done or row["kind"] == "undo", on_click=undo, args=(int(row["op_id"]),))


def audit_log() -> None:
    show_flash("log")
    actor, item, limit = log_filters()
    with memory() as store:
        log = op_page(store, int(limit), actor, item)
        batches = undoable_batches(store)
    if log.empty:
        st.info("No op matches these filters." if actor or item else
                "The audit log is empty: every change to memory (by the Consolidator, a person, an import or "
                "a prune) will be listed here with its before/after and an Undo button.")
    for row in log.to_dict("records"):
        op_row(row)
    if not batches.empty:
        labels = {r["batch_id"]: batch_label(r) for r in batches.to_dict("records")}
        a, b = st.columns([4, 1], vertical_alignment="bottom")
        batch = a.selectbox("Undo a whole batch (an import, a prune, a multi-row save)", list(labels), index=None,
                            format_func=labels.get, key="undo_batch", placeholder="choose a batch…")
        b.button("Undo batch", key="undo_batch_go", on_click=undo, kwargs={"batch": batch}, disabled=batch is None)
