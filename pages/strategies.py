"""Strategies: the library with its stats; one version as a readable graph with an execution overlaid
and any step opened (prompt, model, sampling, and with a trace its inputs, outputs, tokens, cost);
a structural diff against another version (its parent by default); the lineage; editing as a new
version. Graphs are drawn top to bottom at their natural size (pages/strategy_parts.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from egur_core.app.services import build_tools
from egur_core.app.strategy_diff import diff_dot, strategy_diff
from egur_core.app.strategy_views import (
    SORTS,
    execution_option,
    executions_of,
    library_table,
    lineage_dot,
    parse_trace,
    pretty,
    step_table,
    strategy_option,
    tool_call_table,
    unified_diff,
)
from egur_core.app.text import markdown_escape
from egur_core.memory.ops import UpdateEntry
from egur_core.memory.records import MemoryOpError
from egur_core.strategy.validation import validate_strategy
from pages.common import blanks, memory, model_badge, settings
from pages.strategy_parts import LEGEND, step_panel, strategy_graph

COLUMNS = {
    "hash": st.column_config.TextColumn("hash"),
    "name": st.column_config.TextColumn("name", pinned=True),
    "in_library": st.column_config.NumberColumn("library entries", help="entries that run this version"),
    "uses": st.column_config.NumberColumn("uses", help="times library entries ran it (exploitation)"),
    "success_rate": st.column_config.ProgressColumn("success rate", format="percent", min_value=0, max_value=1),
    "accuracy": st.column_config.ProgressColumn("accuracy (EGuR runs)", format="percent", min_value=0, max_value=1),
    "mean_cost": st.column_config.NumberColumn("mean $ / run", format="$%.5f"),
    "executions": st.column_config.NumberColumn("runs", help="times EGuR ran this version (candidates and exploits); "
                                                "uses are the exploits among them"),
    "baseline_runs": st.column_config.NumberColumn("baseline runs", help="times a baseline method ran it, kept "
                                                   "apart from EGuR's statistics"),
    "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
}


def pick_strategy(strategies: pd.DataFrame, entries: pd.DataFrame, by_hash: dict) -> str | None:
    """The filterable library table; a click (or the picker below it) chooses the version shown."""
    f1, f2, f3, f4 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    search = f1.text_input("Search name, summary or hash", key="strategy_search")
    paradigms = f2.multiselect("Paradigm", sorted(strategies["paradigm"].unique()), key="strategy_paradigms")
    sort = f3.selectbox("Sort by", list(SORTS), key="strategy_sort")
    only_library = f4.toggle("Only library strategies", key="strategy_only_library")
    table = library_table(strategies, entries, search, paradigms, only_library, sort)
    picked = st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 320),
                          on_select="rerun", selection_mode="single-row", key="strategy_table", column_config=COLUMNS)
    st.caption(f"{len(table)} of {len(strategies)} versions. Click a row, or pick below.")
    rows = picked.selection.rows if picked is not None else []
    if rows and st.session_state.get("_strategy_table_row") != (rows[0], len(table)):
        st.session_state["_strategy_table_row"] = (rows[0], len(table))
        st.session_state["strategy_pick"] = table.iloc[rows[0]]["hash"]
    options = list(table["hash"])
    if table.empty:
        st.warning("No strategy matches these filters.")
    if st.session_state.get("strategy_pick") in by_hash and st.session_state["strategy_pick"] not in options:
        options.insert(0, st.session_state["strategy_pick"])  # keep showing the picked one (e.g. just saved)
    if not options:
        return None
    return st.selectbox("Strategy", options, format_func=lambda h: strategy_option(by_hash[h]), key="strategy_pick")


def graph_view(strategy, current: str, runs: list[dict]) -> None:
    """The graph at a readable size with an execution overlaid, and the step picker beside it."""
    by_id = {r["execution_id"]: r for r in runs}
    run_pick = st.selectbox(  # 0 = no execution (ids start at 1)
        "Overlay an execution", [0, *by_id], index=1 if by_id else 0, key=f"execution_pick_{current}",
        format_func=lambda i: "none: show the plan only" if not i else execution_option(by_id[i]), help=LEGEND)
    trace = parse_trace(by_id[run_pick]["trace"]) if run_pick else None
    if not by_id:
        st.caption("This version never ran yet, so there is no trace to overlay.")
    left, right = st.columns([1, 1], gap="large")
    with left:
        strategy_graph(strategy, trace)
    with right:
        step_panel(strategy, trace, key=f"step_pick_{current}")
        if trace is not None:
            failed = [t for t in trace if not t.ok]
            if failed:
                st.error(f"Failed at step `{failed[0].step_id}`: {failed[0].error}")
            with st.expander("Every step that ran"):
                st.dataframe(step_table(trace), hide_index=True, width="stretch", column_config={
                    "cost_usd": st.column_config.NumberColumn("$", format="$%.5f"),
                    "latency_s": st.column_config.NumberColumn("s", format="%.2f"),
                    "ok": st.column_config.CheckboxColumn("ok")})
            calls = tool_call_table(trace)
            if not calls.empty:
                st.caption("Tool calls the agent made, in order")
                st.dataframe(calls, hide_index=True, width="stretch",
                             column_config={"ok": st.column_config.CheckboxColumn("ok")})


def compare_view(strategy, current: str, by_hash: dict) -> None:
    """A structural diff against another version: one graph (B, changes coloured), changed parameters."""
    others = [h for h in by_hash if h != current]
    if not others:
        st.caption("Only one strategy stored: nothing to compare with yet.")
        return
    parent = by_hash[current].get("parent_hash")
    default = others.index(parent) if parent in others else 0
    other = st.selectbox("Compare with", others, index=default, format_func=lambda h: strategy_option(by_hash[h]),
                         key="compare_pick", help="defaults to this version's parent when it has one")
    with memory() as store:
        base = store.get_strategy(other)
    diff = strategy_diff(base, strategy)
    st.markdown(f"**A** = `{other}` {base.name} → **B** = `{current}` {strategy.name}")
    if diff.identical:
        st.success("Same structure and parameters.")
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.graphviz_chart(diff_dot(strategy, diff), width="content")
        st.caption(":green-background[added in B] :orange-background[changed] · " + (
            "removed from A: " + ", ".join(f"`{s.step_id}`" for s in diff.steps if s.status == "removed")
            if any(s.status == "removed" for s in diff.steps) else "no step removed"))
    with right:
        st.markdown("**Changed parameters**")
        rows = pd.DataFrame(diff.parameter_rows(), columns=["step", "parameter", "A", "B"])
        st.dataframe(blanks(rows, ["A", "B"]), hide_index=True, width="stretch", key="param_diff")
        moved = [f"`{a}`→`{b}` ({k}) added" for a, b, k in diff.edges_added]
        moved += [f"`{a}`→`{b}` ({k}) removed" for a, b, k in diff.edges_removed]
        if moved:
            st.caption("Control flow: " + "; ".join(moved))
    with st.expander("Unified JSON diff"):
        st.code(unified_diff(base.to_json_dict(), strategy.to_json_dict(), other, current) or "(identical)",
                language="diff")


def lineage_view(versions: list[dict], current: str) -> None:
    if len(versions) == 1:
        st.caption("No other versions: this strategy has no recorded parent or children. Edit it (Edit tab) to "
                   "start a lineage; the Evolution page shows how a run's strategies were derived.")
        return
    st.graphviz_chart(lineage_dot(versions, current), width="content")
    st.dataframe(blanks(pd.DataFrame(versions)[["relation", "depth", "hash", "name", "created_by", "created_at"]]),
                 hide_index=True, width="stretch")


def save_version(parent: str) -> None:
    """Validate the edited JSON; store it as a child of ``parent``; repoint chosen entries (ops)."""
    text = st.session_state[f"edit_json_{parent}"]
    known_models = settings().known_aliases()
    candidate, issues = validate_strategy(text, build_tools().names(), known_models)
    if issues or candidate is None:
        st.session_state["edit_result"] = {"parent": parent, "issues": [(i.path, i.message) for i in issues]}
        return
    if candidate.hash == parent:
        st.session_state["edit_result"] = {"parent": parent, "info": "No change: the JSON is this same version."}
        return
    chosen = st.session_state.get(f"edit_entries_{parent}", [])
    try:
        with memory() as store:
            new = store.save_strategy(candidate, parent_hash=parent, created_by="person")
            op_ids = store.apply_many([UpdateEntry(entry_id=int(e), strategy=candidate.to_json_dict(),
                                                   reason=f"pointed at edited version {new}") for e in chosen],
                                      "person")
    except MemoryOpError as exc:
        st.session_state["edit_result"] = {"parent": parent, "issues": [("library", str(exc))]}
        return
    repointed = f"; entries {', '.join(map(str, chosen))} now run it (ops {', '.join(map(str, op_ids))}, " \
                "undo on the Memory page)" if chosen else ""
    st.session_state["edit_result"] = {"parent": new, "saved": f"Saved version `{new}` (child of `{parent}`)"
                                                                 f"{repointed}."}
    st.session_state["strategy_pick"] = new


def edit_view(strategy, current: str, entries: pd.DataFrame) -> None:
    """Edit the JSON; saving stores a child version (never overwrites); repointing entries is opt-in."""
    result = st.session_state.get("edit_result") or {}
    if result.get("parent") == current:
        if result.get("issues"):
            st.error("Not saved. Fix these and save again:\n\n" +
                     "\n".join(f"- `{path}`: {message}" for path, message in result["issues"]))
        for kind in ("saved", "info"):
            if result.get(kind):
                (st.success if kind == "saved" else st.info)(result[kind])
    st.text_area("Strategy JSON", pretty(strategy), height=360, key=f"edit_json_{current}",
                 help="Saving never overwrites: it stores a new version whose parent is this one.")
    users = entries[entries["strategy_hash"] == current]
    if not users.empty:
        st.multiselect(
            "Also point these library entries at the new version (opt-in: it starts with no statistics)",
            list(users["entry_id"]),
            default=[], key=f"edit_entries_{current}",
            format_func=lambda e: f"entry {e}: {users.set_index('entry_id').loc[e, 'signature'][:70]}",
            help="Each becomes an UpdateEntry op by you: audited, and undoable from the Memory page's audit log.")
    st.button("Validate and save as a new version", type="primary", on_click=save_version, args=(current,),
              key="save_version", icon=":material/save:")


st.title(":material/account_tree: Strategies")
model_badge()
with memory() as store:
    strategies, entries = store.list_strategies(), store.list_entries()
if strategies.empty:
    st.info("No strategies yet. Run a benchmark on the **Run** page (or `egur run --benchmark sat3 --n 10`): "
            "every strategy the Guide writes is stored here with its executions.", icon=":material/info:")
    st.stop()
by_hash = {r["hash"]: r for r in strategies.to_dict("records")}
current = pick_strategy(strategies, entries, by_hash)
if current is None:
    st.stop()
with memory() as store:
    strategy = store.get_strategy(current)
    runs = executions_of(store, current)
    versions = store.lineage(current)
st.markdown(f"**{markdown_escape(strategy.name)}** · `{current}` · {strategy.paradigm} · "
            f"{markdown_escape(strategy.summary)}")
graph_tab, compare_tab, lineage_tab, edit_tab = st.tabs(
    [":material/schema: Graph and trace", ":material/compare: Compare", ":material/family_history: Lineage",
     ":material/edit: Edit"])
with graph_tab:
    graph_view(strategy, current, runs)
with compare_tab:
    compare_view(strategy, current, by_hash)
with lineage_tab:
    lineage_view(versions, current)
with edit_tab:
    edit_view(strategy, current, entries)
