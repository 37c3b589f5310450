"""The Run page's view of a comparison (EGuR and baselines on the same problems): live from its job,
or from the database once it ended or the server restarted. Not a page (app.py lists the pages)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from egur_core.app import charts
from egur_core.app.comparison_job import ComparisonJob, ComparisonSnapshot
from egur_core.app.text import or_dash
from egur_core.evals.comparison import METHOD_NAMES
from egur_core.evals.metrics import accuracy
from pages.common import memory


def progress_table(snap: ComparisonSnapshot) -> pd.DataFrame:
    rows = []
    for m in snap.methods:
        done = m.done
        rows.append({"method": METHOD_NAMES.get(m.method, m.method), "seed": m.seed, "status": m.status,
                     "done": f"{done}/{m.total}", "accuracy": accuracy(r.correct for r in m.records),
                     "$ / problem": or_dash(sum(r.cost_usd for r in m.records) / done if done else None, "${:.5f}"),
                     "exploited": or_dash(sum(r.exploited for r in m.records) / done if done else None, "{:.0%}")})
    return pd.DataFrame(rows)


def results_link(comparison_id: str) -> None:
    st.page_link("pages/results.py", label="Open this comparison in Results (curves, table, per-problem diff)",
                 icon=":material/monitoring:", query_params={"comparison": comparison_id})


def live_comparison(job: ComparisonJob, simulated: bool) -> None:
    """Poll the comparison once a second: one row and one line per (method, seed)."""
    polling = not job.finished
    if polling:
        stopping = job.stop_event.is_set()
        st.button("Stopping after the current problems…" if stopping else "Stop", key="stop_comparison",
                  on_click=job.stop, icon=":material/stop:", disabled=stopping)

    @st.fragment(run_every=1.5 if polling else None)
    def _live() -> None:
        snap = job.snapshot()
        if polling and snap.finished:
            st.rerun()
        cfg = snap.config
        total = sum(m.total for m in snap.methods)
        done = sum(m.done for m in snap.methods)
        st.caption(f"Comparison `{snap.comparison_id}` on **{cfg.benchmark}**: {cfg.n} problems × "
                   f"{len(cfg.seeds)} seed(s), EGuR memory {cfg.egur_memory}")
        st.progress(min(done / max(total, 1), 1.0), text=f"**{done}/{total}** problems · {snap.status}")
        st.dataframe(progress_table(snap), hide_index=True, width="stretch", column_config={
            "accuracy": st.column_config.ProgressColumn("accuracy", format="percent", min_value=0, max_value=1)})
        frame = pd.concat([charts.live_frame(m.records, run=m.key, method=m.method) for m in snap.methods
                           if m.records] or [charts.live_frame([])], ignore_index=True)
        left, right = st.columns(2)
        left.plotly_chart(charts.accuracy_curve(frame, False, simulated), key="cmp_accuracy")
        right.plotly_chart(charts.cost_curve(frame, simulated), key="cmp_cost")
        if snap.status == "failed":
            st.error(f"The comparison failed: {snap.error or 'unknown error'}")
        elif snap.finished:
            (st.success if snap.status == "finished" else st.warning)(
                f"Comparison {snap.status}: {done} of {total} problems.")
            results_link(snap.comparison_id)

    _live()


def past_comparison(comparison_id: str) -> None:
    """A comparison this server is not running (it ended, or the server restarted)."""
    with memory() as store:
        runs = store.list_runs(comparison_id=comparison_id)
    if runs.empty:
        st.warning(f"No comparison `{comparison_id}` in this memory file.")
        return
    st.caption(f"Comparison `{comparison_id}` on **{runs['benchmark'].iloc[0]}**")
    shown = runs.assign(method=runs["method"].map(lambda m: METHOD_NAMES.get(m, m)))
    st.dataframe(shown[["method", "seed", "status", "done", "n_problems", "accuracy", "cost_usd", "run_id"]],
                 hide_index=True, width="stretch", column_config={
                     "accuracy": st.column_config.ProgressColumn("accuracy", format="percent", min_value=0,
                                                                 max_value=1),
                     "cost_usd": st.column_config.NumberColumn("$ total", format="$%.4f"),
                     "n_problems": st.column_config.NumberColumn("of")})
    results_link(comparison_id)
