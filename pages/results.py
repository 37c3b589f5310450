"""Results: compare runs on accuracy and cost as experience accumulates, and problem by problem.

Opens on what was just run (``?comparison=`` or ``?run_id=`` from the Run page, else the newest
run and its comparison), never overlaying runs of different benchmarks by default. Queries are
aggregated in DuckDB (egur_core.app.results_data, run_diff) and cached for a few seconds, so the
page stays fast on a file with tens of thousands of problems; figures come from egur_core.app.charts.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from egur_core.app import charts, results_data
from egur_core.app.run_diff import WHICH, diff_counts, problem_diff
from egur_core.evals.comparison import METHOD_NAMES
from egur_core.memory.database import MemoryFileBusy
from pages.common import blanks, db_path, memory_file, model_badge

TTL_S = 5  # a running job adds problems; stale by at most this much
CURVE_POINTS = 200  # per run: about one point per three pixels of a half-width chart
ALL = "all benchmarks"


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_runs(path: str) -> pd.DataFrame:
    with memory_file(path).session() as store:
        return results_data.run_options(store)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_selection(path: str, run_ids: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary table and thinned curves for the chosen runs."""
    with memory_file(path).session() as store:
        ids = list(run_ids)
        return results_data.summary(store, ids), results_data.curves(store, ids, max_points=CURVE_POINTS)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def load_diff(path: str, run_a: str, run_b: str, which: str) -> tuple[dict[str, int], pd.DataFrame]:
    with memory_file(path).session() as store:
        return diff_counts(store, run_a, run_b), problem_diff(store, run_a, run_b, which)


def problems_csv(path: str, run_ids: tuple[str, ...]):
    """A callable for the download button: the full per-problem table is built only on click."""
    def build() -> bytes:
        with memory_file(path).session() as store:
            return results_data.problems_csv(store, list(run_ids))
    return build


def focus() -> tuple[str | None, str | None]:
    """The comparison or run to open on: the URL (a link from the Run page), else this tab's last one."""
    comparison = st.query_params.get("comparison") or st.session_state.get("last_comparison")
    run_id = st.query_params.get("run_id") or st.session_state.get("last_run_id")
    return comparison, run_id


def reselect(runs: pd.DataFrame) -> None:
    """A new benchmark: select its newest run (and comparison) instead of emptying the selection."""
    benchmark = st.session_state.get("results_benchmark")
    st.session_state["results_runs"] = results_data.default_selection(
        runs, *focus(), benchmark=None if benchmark == ALL else benchmark)


def pick_runs(runs: pd.DataFrame) -> list[str]:
    comparison, run_id = focus()
    wanted = (comparison, run_id)
    if st.session_state.get("_results_focus") != wanted or "results_runs" not in st.session_state:
        st.session_state["_results_focus"] = wanted
        st.session_state["results_runs"] = results_data.default_selection(runs, comparison, run_id)
        chosen = runs[runs["run_id"].isin(st.session_state["results_runs"])]["benchmark"].unique()
        st.session_state["results_benchmark"] = chosen[0] if len(chosen) == 1 else ALL
    left, right = st.columns([1, 3])
    benchmark = left.selectbox("Benchmark", [ALL, *sorted(runs["benchmark"].unique())], key="results_benchmark",
                               on_change=reselect, args=(runs,))
    shown = runs if benchmark == ALL else runs[runs["benchmark"] == benchmark]
    labels = dict(zip(shown["run_id"], shown["run"] + " (" + shown["status"] + ", " + shown["done"].astype(str)
                      + " done)"))
    st.session_state["results_runs"] = [r for r in st.session_state["results_runs"] if r in labels]
    return right.multiselect("Runs", list(labels), format_func=labels.get, key="results_runs")


def charts_grid(summary: pd.DataFrame, curve_frame: pd.DataFrame, simulated: bool) -> None:
    cumulative = st.toggle("Cumulative accuracy", key="results_cumulative",
                           help=f"off: accuracy over the last {charts.ROLLING_WINDOW} problems; on: over all so far")
    row1, row2 = st.columns(2), st.columns(2)
    row1[0].plotly_chart(charts.accuracy_curve(curve_frame, cumulative, simulated), key="accuracy_curve")
    row1[1].plotly_chart(charts.cost_curve(curve_frame, simulated), key="cost_curve")
    row2[0].plotly_chart(charts.accuracy_cost_curve(curve_frame, simulated), key="accuracy_cost_curve")
    row2[1].plotly_chart(charts.cost_by_role(summary, simulated), key="cost_by_role")
    note = charts.trade_off_note(curve_frame)
    if note:
        st.caption(f":material/info: {note}")


def summary_table(summary: pd.DataFrame) -> None:
    cols = st.column_config
    priced = summary["price_known"].astype(bool)
    shown = blanks(summary.assign(method=summary["method"].map(lambda m: METHOD_NAMES.get(m, m)),
                                  cost_usd=summary["cost_usd"].where(priced),
                                  cost_per_problem=summary["cost_per_problem"].where(priced),
                                  price=priced.map({True: "known", False: "unknown"})), ["model"])
    st.dataframe(shown, hide_index=True,
                 width="stretch", key="summary_table", column_order=[
                     "run", "method", "status", "problems", "accuracy", "cost_per_problem", "cost_usd", "price",
                     "exploited_share", "tokens_per_problem", "cached_share", "model"], column_config={
        "price": cols.TextColumn("Price", width="small", help="unknown: a model of the run has no price in the "
                                 "settings or the maintained list, so its dollars are not shown as if free"),
        "cached_share": cols.NumberColumn("Cached prompt", format="percent", help="share of prompt tokens the "
                                          "provider served from its prompt cache (billed at the cached rate)"),
        "run": cols.TextColumn("Run"), "status": cols.TextColumn("Status", width="small"),
        "accuracy": cols.ProgressColumn("Accuracy", format="percent", min_value=0, max_value=1, width="small"),
        "cost_usd": cols.NumberColumn("Total $", format="$%.4f"),
        "cost_per_problem": cols.NumberColumn("$ / problem", format="$%.5f"),
        "tokens_per_problem": cols.NumberColumn("Tokens / problem", format="%.0f"),
        "exploited_share": cols.NumberColumn("Exploited", format="percent",
                                             help="share of problems answered by a proven library strategy alone")})
    if not priced.all():
        st.caption(f":material/warning: price unknown for {(~priced).sum()} run(s): their dollars are left blank, "
                   "not shown as $0. Set the model's price on the Settings page.")


def run_links(summary: pd.DataFrame, limit: int = 8) -> None:
    """Links to each run on the Run page and to its problems in the inspector."""
    rows = summary.head(limit)
    cols = st.columns(min(len(rows), 4))
    for i, row in enumerate(rows.itertuples()):
        with cols[i % len(cols)]:
            st.page_link("pages/run.py", label=row.run, icon=":material/play_arrow:",
                         query_params={"run_id": row.run_id})
            st.page_link("pages/problems.py", label="its problems", icon=":material/search:",
                         query_params={"run_id": row.run_id})


def diff_section(summary: pd.DataFrame) -> None:
    """Which problems one run got right and the other wrong, with both answers and strategies."""
    st.subheader("Problem by problem", anchor=False)
    labels = dict(zip(summary["run_id"], summary["run"]))
    methods = dict(zip(summary["run_id"], summary["method"]))
    ids = sorted(labels, key=lambda r: methods[r] != "egur")  # A defaults to EGuR, B to a baseline
    c = st.columns([2, 2, 2])
    run_a = c[0].selectbox("Run A", ids, format_func=labels.get, key="diff_a")
    options_b = [r for r in ids if r != run_a]
    other_method = next((i for i, r in enumerate(options_b) if methods[r] != methods[run_a]), 0)
    run_b = c[1].selectbox("Run B", options_b, index=other_method, format_func=labels.get, key="diff_b")
    which = c[2].selectbox("Show", list(WHICH), format_func=WHICH.get, key="diff_which")
    counts, rows = load_diff(db_path(), run_a, run_b, which)
    st.caption(f"{counts.get('shared', 0)} shared problems: A right & B wrong **{counts.get('only_a', 0)}** · "
               f"B right & A wrong **{counts.get('only_b', 0)}** · both right {counts.get('both_right', 0)} · "
               f"both wrong {counts.get('both_wrong', 0)}")
    if rows.empty:
        st.info("No shared problem in this group." if counts.get("shared") else
                "These runs share no problem (different benchmarks or seeds).")
        return
    rows = rows.assign(a_open=[f"/problems?run_id={run_a}&problem={n}" for n in rows["number"]],
                       b_open=[f"/problems?run_id={run_b}&problem={n}" for n in rows["b_number"]])
    cols = st.column_config
    st.dataframe(blanks(rows, ["a_answer", "b_answer", "a_strategy", "b_strategy", "gold"]), hide_index=True,
                 width="stretch", key="diff_table", column_order=[
        "number", "a_right", "b_right", "a_strategy", "b_strategy", "gold", "a_answer", "b_answer", "a_open",
        "b_open", "problem"], column_config={
        "number": cols.NumberColumn("#", width=40), "a_right": cols.CheckboxColumn("A right", width=60),
        "b_right": cols.CheckboxColumn("B right", width=60), "a_strategy": cols.TextColumn("A strategy"),
        "b_strategy": cols.TextColumn("B strategy"), "gold": cols.TextColumn("gold (label)", width="small"),
        "a_answer": cols.TextColumn("A answer", width="medium"),
        "b_answer": cols.TextColumn("B answer", width="medium"),
        "a_open": cols.LinkColumn("A", display_text="inspect", width=60),
        "b_open": cols.LinkColumn("B", display_text="inspect", width=60)})


def downloads(summary: pd.DataFrame, run_ids: list[str]) -> None:
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("Summary CSV", results_data.safe_csv(summary), "egur_runs.csv", "text/csv",
                         key="download_summary", icon=":material/download:")
    right.download_button("Per-problem CSV", problems_csv(db_path(), tuple(run_ids)), "egur_problems.csv",
                          "text/csv", key="download_problems", icon=":material/download:")


st.title(":material/monitoring: Results", anchor=False)
model_badge()
try:
    runs = load_runs(db_path())
except MemoryFileBusy as exc:
    st.error(f"The memory file is in use by another program. {exc}")
    st.stop()
if runs.empty:
    st.info("No runs yet. Start one on the **Run** page; its accuracy and cost curves will be compared here.",
            icon=":material/monitoring:")
    st.page_link("pages/run.py", label="Go to Run", icon=":material/play_arrow:")
    st.stop()
selected = pick_runs(runs)
if not selected:
    st.info("Choose one or more runs to compare.")
    st.stop()
summary, curve_frame = load_selection(db_path(), tuple(selected))
simulated = bool((summary["simulated"] == True).any())  # noqa: E712  (pandas element-wise)
if simulated:
    st.caption(":orange-badge[:material/science: Simulated] some selected runs used the simulated model: "
               "their numbers show the loop's behaviour, not a real model's accuracy.")
charts_grid(summary, curve_frame, simulated)
st.subheader("Runs side by side", anchor=False)
summary_table(summary)
run_links(summary)
if len(selected) >= 2:
    diff_section(summary)
downloads(summary, selected)
