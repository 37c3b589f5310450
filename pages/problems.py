"""Problems: every problem of a run, a page at a time, filterable; one problem in full.

The problem text, the chosen answer and then the gold answer (marked as the label, which the
method never saw), every candidate with its strategy graph, trace, prompts and outputs, cost by
role, and what memory the problem read and changed. Queries are in egur_core.app.inspector.
Problems are numbered from 1, as on the Run page; ``?run_id=...&problem=N`` opens one.
"""

from __future__ import annotations

import math
from typing import get_args

import pandas as pd
import streamlit as st

from egur_core.app import results_data
from egur_core.app.inspector import (
    PAGE_SIZE,
    Candidate,
    How,
    Outcome,
    ProblemDetail,
    ProblemFilter,
    problem_detail,
    problem_page,
    strategy_names,
)
from egur_core.app.memory_views import describe_op
from egur_core.app.text import markdown_escape
from egur_core.strategy.roles import ROLES
from pages.common import blanks, memory, model_badge, text_block
from pages.strategy_parts import LEGEND, step_panel, strategy_graph

OUTCOMES, HOWS = list(get_args(Outcome)), list(get_args(How))


def reset_page() -> None:
    st.session_state["inspect_page"] = 1


def pick_run() -> str | None:
    with memory() as store:
        runs = results_data.run_options(store)
    if runs.empty:
        st.info("No runs yet. Start one on the **Run** page; every problem it answers can be inspected here.",
                icon=":material/search:")
        return None
    labels = dict(zip(runs["run_id"], runs["run"] + " · " + runs["done"].astype(str) + " done"))
    wanted = st.query_params.get("run_id") or st.session_state.get("last_run_id")
    if wanted in labels and st.session_state.get("_inspect_wanted") != wanted:
        st.session_state["inspect_run"] = wanted  # a link or the Run page chose it
        st.session_state["_inspect_wanted"] = wanted
        reset_page()
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="inspect_run", on_change=reset_page)
    st.query_params["run_id"] = st.session_state["_inspect_wanted"] = run_id  # the URL follows the picker
    return run_id


def filters(run_id: str) -> ProblemFilter:
    with memory() as store:
        names = strategy_names(store, run_id)
    c = st.columns(4, vertical_alignment="bottom")
    outcome = c[0].selectbox("Outcome", OUTCOMES, key="inspect_outcome", on_change=reset_page)
    how = c[1].selectbox("How it was answered", HOWS, key="inspect_how", on_change=reset_page,
                         help="exploited: a cached strategy alone; explored: the Guide's candidates; fallback: the "
                              "configured fallback strategy ran")
    strategy = c[2].selectbox("Chosen strategy", [None, *names], key="inspect_strategy", on_change=reset_page,
                              format_func=lambda n: n or "any strategy")
    search = c[3].text_input("Text in problem or answer", key="inspect_search", on_change=reset_page)
    return ProblemFilter(outcome=outcome, how=how, strategy=strategy, search=search or None)


def problem_table(run_id: str, flt: ProblemFilter) -> int | None:
    """A page of problems; returns the number of a row the user clicked."""
    page = int(st.session_state.setdefault("inspect_page", 1))
    with memory() as store:
        frame, total = problem_page(store, run_id, flt, page)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if not total:
        st.info("No problem of this run matches these filters.")
        return None
    frame["outcome"] = frame["correct"].map(lambda c: "–" if c is None or c != c else ("✓ right" if c else "✗ wrong"))
    picked = st.dataframe(
        blanks(frame, ["answer", "strategy"]), hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row",        key=f"problem_table_{run_id}_{page}",
        column_order=["number", "outcome", "answer", "strategy", "exploited", "fallback", "candidates", "cost_usd",
                      "latency_s", "problem"],
        column_config={"number": st.column_config.NumberColumn("#", help="problem number, from 1"),
                       "cost_usd": st.column_config.NumberColumn("$", format="$%.5f"),
                       "latency_s": st.column_config.NumberColumn("s", format="%.1f"),
                       "answer": st.column_config.TextColumn("answer", width="small"),
                       "problem": st.column_config.TextColumn("problem", width="large")})
    pager(page, pages, total)
    rows = picked.selection.rows if picked is not None else []
    return int(frame.iloc[rows[0]]["number"]) if rows else None


def pager(page: int, pages: int, total: int) -> None:
    def go(to: int) -> None:
        st.session_state["inspect_page"] = min(max(to, 1), pages)

    def jump() -> None:
        st.session_state["inspect_problem"] = st.session_state.get("inspect_jump")

    a, b, c, d = st.columns([1.4, 1.2, 4, 2], vertical_alignment="bottom")
    a.button("Previous", key="page_prev", on_click=go, args=(page - 1,), disabled=page <= 1,
             icon=":material/chevron_left:")
    b.button("Next", key="page_next", on_click=go, args=(page + 1,), disabled=page >= pages,
             icon=":material/chevron_right:")
    c.caption(f"page {page} of {pages} · {total} problem(s) · click a row to open it")
    d.number_input("Open problem #", min_value=1, value=None, step=1, key="inspect_jump", on_change=jump,
                   placeholder="number")


def chosen_number() -> int | None:
    """The problem to open: a click or the jump box (this session), else ``?problem=N`` from a link."""
    if st.query_params.get("problem", "").isdigit() and "inspect_problem" not in st.session_state:
        st.session_state["inspect_problem"] = int(st.query_params["problem"])
    number = st.session_state.get("inspect_problem")
    if number:
        st.query_params["problem"] = str(number)
    st.session_state["_inspect_drawn"] = number
    return number


@st.fragment
def listing(run_id: str, flt: ProblemFilter) -> None:
    """The table and its pager rerun alone (a page change does not redraw the open problem); a click or a
    jump to another problem reruns the page, which draws that problem below."""
    clicked = problem_table(run_id, flt)
    if clicked != st.session_state.get("_inspect_clicked"):  # a new click (None: the row was unselected)
        st.session_state["_inspect_clicked"] = clicked
        if clicked is not None:
            st.session_state["inspect_problem"] = clicked
    if st.session_state.get("inspect_problem") != st.session_state.get("_inspect_drawn"):
        st.rerun()


def outcome_badge(correct: bool | None) -> str:
    return {True: ":green-badge[:material/check: right]", False: ":red-badge[:material/close: wrong]"}.get(
        correct, ":gray-badge[ungraded]")


def problem_view(detail: ProblemDetail) -> None:
    how = "exploited memory (a cached strategy alone)" if detail.exploited else \
        f"explored {len(detail.candidates)} candidate(s)"
    st.subheader(f"Problem #{detail.number}", anchor=False)
    st.markdown(f"{outcome_badge(detail.correct)} {how} · `{detail.problem_id}` · {detail.benchmark}")
    text_block(detail.text, 360)
    left, right = st.columns(2)
    left.markdown("**Chosen answer** (picked without the label)")
    with left:
        text_block(detail.answer, 200, "(no answer)")
    right.markdown("**Gold answer** · the label, never shown to the method; used only to grade and for feedback")
    with right:
        text_block(detail.gold, 200, "(not recorded)")
    if detail.error:
        st.error(detail.error)
    m = st.columns(len(ROLES) + 2)
    for col, role in zip(m, ROLES):
        col.metric(f"{role} $", f"${detail.cost_by_role[role]:.5f}", help=f"{detail.tokens_by_role[role]:,} tokens")
    m[-2].metric("total $", f"${detail.cost_usd:.5f}")
    m[-1].metric("calls · seconds", f"{detail.calls} · {detail.latency_s:.1f}s")
    candidates(detail)
    memory_effects(detail)


def candidates(detail: ProblemDetail) -> None:
    if not detail.candidates:
        st.caption("No candidate ran for this problem.")
        return
    marks = {True: "✓", False: "✗", None: "·"}
    ordered = sorted(detail.candidates, key=lambda c: (not c.chosen, c.number))  # the chosen one opens first
    tabs = st.tabs([f"{c.number}. {c.name[:40]} {marks[c.correct]}{' · chosen' if c.chosen else ''}"
                    for c in ordered])
    for tab, cand in zip(tabs, ordered):
        with tab:
            candidate_view(detail, cand)


def candidate_view(detail: ProblemDetail, cand: Candidate) -> None:
    if cand.rejected is not None:
        st.warning(f"The Guide wrote this candidate but validation refused it: {cand.error}")
        text_block(str(cand.rejected.get("raw") or ""))
        return
    source = f" · feedback from **{cand.feedback_source}**" if cand.feedback_source else ""
    verdict = {True: "right", False: "wrong", None: "not graded"}[cand.correct]
    st.markdown(f"**{markdown_escape(cand.name)}** `{cand.strategy_hash}` · {verdict}{source}"
                f"{' · **chosen**' if cand.chosen else ''} · ${cand.cost_usd:.5f} · {cand.tokens:,} tokens · "
                f"{cand.calls} call(s) · {cand.latency_s:.1f}s")
    if cand.rationale:
        st.caption(f"Why: {markdown_escape(cand.rationale, 400)}")
    if cand.error:
        st.error(cand.error)
    st.markdown("**Answer**")
    text_block(cand.answer, 160)
    if cand.strategy is None:
        return
    graph, steps = st.columns([1, 1], gap="large")
    with graph:
        strategy_graph(cand.strategy, cand.trace)
        st.caption(LEGEND)
    with steps:
        step_panel(cand.strategy, cand.trace, key=f"step_{detail.run_id}_{detail.number}_{cand.number}")


def memory_effects(detail: ProblemDetail) -> None:
    with st.expander(f"Memory: {len(detail.retrieved)} item(s) retrieved, {len(detail.ops)} change(s)"):
        if detail.retrieved:
            st.dataframe(blanks(pd.DataFrame(detail.retrieved)), hide_index=True, width="stretch")
        for op in detail.ops:
            undone = f" (undone by op {op['undone_by']})" if op["undone_by"] else ""
            st.markdown(f"- op `{op['op_id']}` by {op['actor']}: {markdown_escape(describe_op(op['payload']))}{undone}")
        if not detail.retrieved and not detail.ops:
            st.caption("Nothing retrieved, nothing changed.")


st.title(":material/search: Problems", anchor=False)
model_badge()
run_id = pick_run()
if run_id:
    flt = filters(run_id)
    number = chosen_number()
    listing(run_id, flt)
    if number:
        with memory() as store:
            detail = problem_detail(store, run_id, int(number))
        if detail is None:
            st.warning(f"Run `{run_id}` has no problem #{number}.")
        else:
            st.divider()
            problem_view(detail)
