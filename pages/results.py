"""Results page: compare runs on accuracy and cost as experience accumulates.

Queries are aggregated in DuckDB (egur_core.app.results_data) and cached for a few seconds, so the
page stays fast on a file with tens of thousands of problems; figures come from egur_core.app.charts.
Baseline runs (``method`` other than ``egur``) are coloured by method next to EGuR.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from egur_core.app import charts, results_data
from egur_core.memory.database import MemoryFileBusy
from pages.common import db_path, memory_file, model_badge

TTL_S = 5  # a running job adds problems; stale by at most this much
CURVE_POINTS = 300  # per run: about one point per two pixels of a half-width chart


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


def problems_csv(path: str, run_ids: tuple[str, ...]):
    """A callable for the download button: the full per-problem table is built only on click."""
    def build() -> bytes:
        with memory_file(path).session() as store:
            return results_data.problems_csv(store, list(run_ids))
    return build


def default_selection(runs: pd.DataFrame) -> list[str]:
    """The newest comparison if there is one (EGuR against its baselines), else the newest runs."""
    if runs["comparison_id"].notna().any():
        newest = runs.loc[runs["comparison_id"].notna(), "comparison_id"].iloc[0]
        return runs.loc[runs["comparison_id"] == newest, "run_id"].tolist()
    return runs["run_id"].head(3).tolist()


def pick_runs(runs: pd.DataFrame) -> list[str]:
    benchmarks = ["all benchmarks", *sorted(runs["benchmark"].unique())]
    left, right = st.columns([1, 3])
    benchmark = left.selectbox("Benchmark", benchmarks, key="results_benchmark")
    shown = runs if benchmark == benchmarks[0] else runs[runs["benchmark"] == benchmark]
    labels = dict(zip(shown["run_id"], shown["run"] + " (" + shown["status"] + ", "
                      + shown["done"].astype(str) + " done)"))
    default = [r for r in default_selection(runs) if r in labels] or list(labels)[:1]
    return right.multiselect("Runs", list(labels), default=default, format_func=labels.get, key="results_runs")


def charts_grid(summary: pd.DataFrame, curve_frame: pd.DataFrame) -> None:
    row1, row2 = st.columns(2), st.columns(2)
    row1[0].plotly_chart(charts.accuracy_curve(curve_frame), key="accuracy_curve")
    row1[1].plotly_chart(charts.cost_curve(curve_frame), key="cost_curve")
    row2[0].plotly_chart(charts.accuracy_cost_curve(curve_frame), key="accuracy_cost_curve")
    row2[1].plotly_chart(charts.cost_by_role(summary), key="cost_by_role")


def summary_table(summary: pd.DataFrame) -> None:
    cols = st.column_config
    st.dataframe(summary, hide_index=True, key="summary_table", column_order=[
        "run", "method", "problems", "accuracy", "cost_per_problem", "cost_usd", "exploited_share", "tokens",
        "tokens_per_problem", "benchmark", "status", "model", "simulated"], column_config={
        "run": cols.TextColumn("Run"), "accuracy": cols.ProgressColumn("Accuracy", format="percent", min_value=0,
                                                                       max_value=1),
        "cost_usd": cols.NumberColumn("Total $", format="$%.4f"),
        "cost_per_problem": cols.NumberColumn("$ / problem", format="$%.5f"),
        "tokens": cols.NumberColumn("Tokens", format="localized"),
        "tokens_per_problem": cols.NumberColumn("Tokens / problem", format="%.0f"),
        "exploited_share": cols.NumberColumn("Exploited", format="percent",
                                             help="share of problems answered by a proven library strategy alone"),
        "simulated": cols.CheckboxColumn("Simulated")})


def run_links(summary: pd.DataFrame, limit: int = 8) -> None:
    """Links to the Run page for a run's problems, chosen strategies and traces."""
    st.caption("Open a run's problems, with the strategy chosen for each and its trace:")
    rows = summary.head(limit)
    cols = st.columns(min(len(rows), 4))
    for i, row in enumerate(rows.itertuples()):
        cols[i % len(cols)].page_link("pages/run.py", label=row.run, icon=":material/list_alt:",
                                      query_params={"run_id": row.run_id})


def downloads(summary: pd.DataFrame, run_ids: list[str]) -> None:
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("Summary CSV", summary.to_csv(index=False), "egur_runs.csv", "text/csv",
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
if (summary["simulated"] == True).any():  # noqa: E712  (pandas element-wise)
    st.caption(":orange-badge[:material/science: Simulated] some selected runs used the simulated model: "
               "their numbers show the loop's behaviour, not a real model's accuracy.")
charts_grid(summary, curve_frame)
st.subheader("Runs side by side", anchor=False)
summary_table(summary)
run_links(summary)
downloads(summary, selected)
