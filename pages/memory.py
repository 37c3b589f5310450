"""Memory: library entries and notes (edit, add, delete, pin, ban), the review queue, bulk
pruning, the audit log with undo, provenance and measured usefulness, export and import.
Every change is a logged op by actor "person", so it shows in the audit log and can be undone.
The review queue and the audit log are drawn by pages/memory_log.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from egur_core.app.curation_views import points
from egur_core.app.memory_editing import (
    EditError,
    choice_hash,
    diff_to_ops,
    entries_frame,
    notes_frame,
    strategy_choice,
)
from egur_core.app.memory_views import describe_op, usefulness
from egur_core.app.text import markdown_escape
from egur_core.memory.records import MemoryImportError, MemoryOpError, PruneRule
from pages.common import memory, model_badge, text_block
from pages.memory_log import audit_log, flash, review_queue, set_aside, show_flash

EDITOR = {"entries": "entries_editor", "notes": "notes_editor"}
KEY = {"entries": "entry_id", "notes": "note_id"}


def load(store, kind: str) -> pd.DataFrame:
    search, bench = st.session_state.get("mem_search") or None, st.session_state.get("mem_bench") or None
    banned = st.session_state.get("mem_banned", True)
    if kind == "entries":
        return entries_frame(store.list_entries(search, bench, banned))
    return notes_frame(store.list_notes(search, bench, banned))


def pending(store, kind: str, frame: pd.DataFrame) -> list:
    state = st.session_state.get(EDITOR[kind]) or {}
    needed = {choice_hash(r.get("strategy")) for r in state.get("added_rows", [])}
    needed |= {choice_hash(c["strategy"]) for c in state.get("edited_rows", {}).values() if c.get("strategy")}
    strategies = {h: store.strategy_row(h)["json"] for h in needed if h and _exists(store, h)}
    return diff_to_ops(frame, state, kind, strategies)


def _exists(store, strategy_hash: str) -> bool:
    try:
        store.strategy_row(strategy_hash)
        return True
    except KeyError:
        return False


def save_edits(kind: str) -> None:
    """Apply every pending grid change as ops in ONE transaction, against the rows the grid showed."""
    try:
        with memory() as store:
            frame = load(store, kind).set_index(KEY[kind], drop=False)
            shown = st.session_state.get(f"{kind}_shown", [])
            frame = frame.reindex(shown).reset_index(drop=True)  # positions as shown, even if a run wrote since
            op_ids = store.apply_many(pending(store, kind, frame), "person")
    except (EditError, MemoryOpError, ValueError) as exc:
        flash(kind, "error", f"Nothing was saved: {exc}")
        return
    st.session_state.pop(EDITOR[kind], None)
    flash(kind, "success", f"Saved {len(op_ids)} change(s) as op(s) {', '.join(map(str, op_ids))}. "
                           "Undo them in the Audit log tab.")


def discard_edits(kind: str) -> None:
    st.session_state.pop(EDITOR[kind], None)


def editor(kind: str, choices: list[str]) -> None:
    show_flash(kind)
    with memory() as store:
        frame = load(store, kind)
    st.session_state[f"{kind}_shown"] = [int(i) for i in frame[KEY[kind]]]
    text = "signature" if kind == "entries" else "text"
    config = {KEY[kind]: st.column_config.NumberColumn("id", disabled=True),
              text: st.column_config.TextColumn(text, width="medium", required=True),
              "pinned": st.column_config.CheckboxColumn("pinned", help="never pruned or evicted"),
              "banned": st.column_config.CheckboxColumn("banned", help="kept, but never retrieved")}
    if kind == "entries":
        config["strategy"] = st.column_config.SelectboxColumn("strategy", options=choices, width="medium")
        config["success_rate"] = st.column_config.ProgressColumn("success", format="percent", min_value=0,
                                                                 max_value=1)
        config["mean_cost"] = st.column_config.NumberColumn("mean $", format="$%.5f")
    measured = [c for c in ("uses", "success_rate", "mean_cost", "retrievals", "helpful", "harmful") if c in frame]
    st.caption("Double-click a cell to edit, tick pinned or banned, add or delete rows; nothing changes until you "
               "save, and every saved change is in the audit log and can be undone.")
    st.data_editor(frame, key=EDITOR[kind], num_rows="dynamic", hide_index=True, width="stretch",
                   column_config=config, disabled=[KEY[kind], *measured])
    if frame.empty:
        st.caption(f"No {kind} yet. The Consolidator adds them as runs go (Run page); you can add rows here too.")
    with memory() as store:
        try:
            ops = pending(store, kind, frame)
        except EditError as exc:
            st.warning(f"Can't save yet: {exc}")
            ops = []
    if ops:
        st.markdown(f"**{len(ops)} pending change(s)**, applied together in one transaction:\n" +
                    "\n".join(f"- {describe_op(op)}" for op in ops))
        a, b, _ = st.columns([2, 1, 5])
        a.button(f"Save {len(ops)} change(s)", type="primary", key=f"{kind}_save", on_click=save_edits,
                 args=(kind,), icon=":material/save:")
        b.button("Discard", key=f"{kind}_discard", on_click=discard_edits, args=(kind,))


@st.dialog("Prune memory", on_dismiss=lambda: st.session_state.pop("prune_open", None))
def confirm_prune(rule: PruneRule) -> None:
    with memory() as store:
        doomed = store.prune_preview(rule)
    st.markdown(f"Delete **{len(doomed)}** unpinned {rule.kind}? They go as one batch of logged deletes: "
                "**Undo batch** in the audit log brings them all back.")
    st.dataframe(doomed, hide_index=True, height=200)
    a, b = st.columns(2)
    if a.button(f"Delete {len(doomed)}", type="primary", key="prune_confirm"):
        with memory() as store:
            ids = store.prune(rule)
        st.session_state.pop("prune_open", None)
        flash("prune", "success", f"Pruned {len(ids)} {rule.kind} (ops {ids[0]}–{ids[-1]}).")
        st.rerun()
    if b.button("Cancel", key="prune_cancel"):
        st.session_state.pop("prune_open", None)
        st.rerun()


def prune() -> None:
    show_flash("prune")
    kind = st.radio("Prune", ["entries", "notes"], horizontal=True, key="prune_kind")
    c = st.columns(4)
    rate = c[0].slider("Success rate at most" if kind == "entries" else "Helpful share at most", 0.0, 1.0,
                       0.3, 0.05, key="prune_rate") if c[0].checkbox("By success", key="prune_by_rate") else None
    uses = c[1].number_input("Used at least (times)", 0, value=None, key="prune_uses")
    days = c[2].number_input("Older than (days)", 0.0, value=None, key="prune_days")
    never = c[3].checkbox("Never retrieved", key="prune_never")
    rule = PruneRule(kind=kind, max_success_rate=rate, min_uses=uses, older_than_days=days, never_retrieved=never)
    try:
        with memory() as store:
            doomed = store.prune_preview(rule)
    except MemoryOpError:
        st.info("Pick at least one criterion. Pinned items are never pruned. All criteria must hold.")
        return
    st.markdown(f"**Preview:** {len(doomed)} {kind} match (pinned ones never do).")
    st.dataframe(doomed, hide_index=True, width="stretch", height=min(38 + 35 * len(doomed), 300))
    if st.button(f"Prune {len(doomed)} {kind}…", key="prune_open_btn", disabled=doomed.empty):
        st.session_state["prune_open"] = rule.model_dump()
    if st.session_state.get("prune_open"):
        confirm_prune(PruneRule(**st.session_state["prune_open"]))


def provenance(entries: pd.DataFrame) -> None:
    if entries.empty:
        st.info("No library entries to trace yet.")
        return
    label = {int(r["entry_id"]): f"entry {r['entry_id']} · {r['strategy_name']} · {r['signature'][:80]}"
             for r in entries.to_dict("records")}
    entry_id = st.selectbox("Entry", list(label), format_func=label.get, key="prov_entry")
    with memory() as store:
        prov = store.entry_provenance(int(entry_id))
        runs = {r["run_id"] for r in prov["retrieved_by"]} | {(prov["created_by"] or {}).get("run_id")}
        problems = [store.problem_rows(r) for r in runs if r]
    e, made, problem = prov["entry"] or {}, prov["created_by"], prov["created_problem"]
    st.markdown(f"**{markdown_escape(e.get('signature', '(deleted)'), 200)}**  \nruns "
                f"`{e.get('strategy_name') or '(unknown strategy)'}` (`{e.get('strategy_hash') or '–'}`)")
    if made:
        origin = (f" from run `{made['run_id']}` problem #{made['idx'] + 1}" if made["run_id"] and
                  made["idx"] is not None else "")
        st.markdown(f"Created by **{made['actor']}** (op {made['op_id']}, {made['ts']:%Y-%m-%d %H:%M}){origin}" +
                    (f", answered {'correctly' if problem['correct'] else 'wrongly'}." if problem else "."))
    use = usefulness(prov["retrieved_by"], pd.concat(problems) if problems else pd.DataFrame(), e.get("benchmark"))
    m = st.columns(5)
    m[0].metric("Retrieved", len(prov["retrieved_by"]))
    m[1].metric("Ran (uses)", e.get("uses", 0), help="times it was run as the cached strategy")
    m[2].metric("Accuracy when retrieved", _pct(use["with_accuracy"]),
                None if use["accuracy_delta"] is None else f"{points(use['accuracy_delta'])} vs without",
                help=f"{use['with_n']} problems retrieved it; {use['without_n']} of its benchmark did not")
    m[3].metric("Accuracy without", _pct(use["without_accuracy"]))
    m[4].metric("$ / problem when retrieved", "—" if use["with_cost"] is None else f"${use['with_cost']:.4f}",
                None if use["cost_delta"] is None else f"{use['cost_delta']:+.4f} vs without", delta_color="inverse")
    if problem:
        with st.expander("The problem that created it"):
            text_block(problem["text"], 300)
    st.markdown("**Retrieved by**")
    st.dataframe(numbered(pd.DataFrame(prov["retrieved_by"])), hide_index=True, width="stretch", height=200)
    st.markdown("**Every op that touched it** (before/after diffs: Audit log tab, filtered by this entry)")
    st.dataframe(numbered(pd.DataFrame(prov["ops"])), hide_index=True, width="stretch")


def numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """Problem indices as people count them (from 1), under the same name as everywhere else."""
    if "idx" not in frame:
        return frame
    return frame.assign(idx=frame["idx"].map(lambda i: "–" if i is None or i != i else f"#{int(i) + 1}")).rename(
        columns={"idx": "problem"})


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def transfer() -> None:
    show_flash("transfer")
    fmt = st.radio("Export format", ["json", "zip"], horizontal=True, key="export_fmt",
                   format_func=lambda f: {"json": "JSON (one readable file)", "zip": "zip of Parquet"}[f])

    def export_bytes() -> bytes:
        with tempfile.TemporaryDirectory() as tmp, memory() as store:
            return store.export_memory(Path(tmp) / f"memory.{fmt}").read_bytes()

    st.download_button("Export memory", export_bytes, file_name=f"egur-memory.{fmt}", key="export",
                       icon=":material/download:", on_click="ignore")
    st.divider()
    upload = st.file_uploader("Import a memory export", type=["json", "zip"], key="import_file")
    mode = st.radio("Mode", ["merge", "replace"], horizontal=True, key="import_mode", index=0, help=(
        "merge adds the file's entries and notes next to yours (skipping duplicates); replace swaps your "
        "library and notes for the file's. Either way it is one batch you can undo."))
    if st.button("Import", key="import_go", disabled=upload is None, type="primary") and upload is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                with memory() as store:
                    res = store.import_memory(path, mode)
                flash("transfer", "success", f"Imported {res.entries} entries and {res.notes} notes "
                                             f"({mode}); undo with batch `{res.batch_id}` in the audit log.")
            except MemoryImportError as exc:
                flash("transfer", "error", f"Import refused, nothing was changed. {exc}")
        st.rerun()


st.title(":material/neurology: Memory")
model_badge()
with memory() as store:
    all_entries, strategies, proposals = store.list_entries(), store.list_strategies(), store.pending_proposals()
f = st.columns([3, 2, 1], vertical_alignment="bottom")
f[0].text_input("Search signatures, strategy names and notes", key="mem_search")
f[1].selectbox("Benchmark", [""] + sorted(set(all_entries["benchmark"])), key="mem_bench",
               format_func=lambda b: b or "all benchmarks")
f[2].toggle("Show banned", value=True, key="mem_banned")
tabs = st.tabs(["Library", "Notes", f"Review queue ({len(proposals)})", "Audit log", "Prune", "Provenance",
                "Export / import"])
choices = [strategy_choice(n, h) for n, h in zip(strategies["name"], strategies["hash"])]
with tabs[0]:
    editor("entries", choices)
with tabs[1]:
    editor("notes", choices)
with tabs[2]:
    review_queue(proposals)
    set_aside()
with tabs[3]:
    audit_log()
with tabs[4]:
    prune()
with tabs[5]:
    provenance(all_entries)
with tabs[6]:
    transfer()
