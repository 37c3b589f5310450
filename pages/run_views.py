"""The Run page's views of one run: live from this server's job, live from the database when another
process runs it (read-only), or a past run with Resume. Not a page (app.py lists the pages).

Each view is one small function over snapshots; none holds the memory file between renders.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from egur_core.app import charts, results_data
from egur_core.app.jobs import Job
from egur_core.app.progress import JobSnapshot, ProblemRecord
from egur_core.app.run_state import RunOnView
from egur_core.app.text import markdown_escape
from egur_core.reasoner.loop import call_cap_note
from egur_core.strategy.graph import to_dot
from pages.common import memory

FEED_SIZE = 10
CURVE_POINTS = 300  # a past run's curves are thinned in SQL; a chart has no more pixels than that
POLL_S = 1.5  # this server's job; each poll redraws two charts, so not faster than a person reads
WATCH_EVERY_S = 2.0  # another process's run, read from the database
UNPRICED = ("A model this run uses has no price in the settings or the maintained list (a local model, say), "
            "so its calls are not counted as if free: set a price on the Settings page.")
CACHE_HELP = "Prompt tokens served from the provider's cache are billed at the cached rate where the price has one."


def status_line(snap: JobSnapshot, totals: results_data.RunTotals) -> None:
    """Progress bar and headline numbers."""
    done = totals.done
    acc = f"{totals.accuracy:.0%}" if totals.accuracy is not None else "–"
    stage = f" · problem {snap.current + 1}: {snap.stage}" if snap.current is not None and snap.stage else ""
    if len(snap.in_flight) > 1:
        stage = f" · {len(snap.in_flight)} in flight, latest{stage.removeprefix(' ·')}"
    st.caption(f"Run `{snap.run_id}` on **{snap.benchmark}**")
    st.progress(min(done / max(snap.total, 1), 1.0), text=f"**{done}/{snap.total}** problems · {snap.status}{stage}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Accuracy", acc, help="share of finished problems whose chosen answer was graded right")
    if snap.price_known:
        m2.metric("Cost", f"${totals.cost_usd:.4f}", help=CACHE_HELP)
        m3.metric("Per problem", f"${totals.cost_usd / done:.4f}" if done else "–")
    else:
        m2.metric("Cost", "price unknown", help=f"{UNPRICED} Priced models so far: ${totals.cost_usd:.4f}.")
        m3.metric("Per problem", "price unknown", help=UNPRICED)
    m4.metric("Exploited", f"{totals.exploited}/{done}", help="answered by a cached strategy alone")
    if totals.cached_tokens:
        st.caption(f"Prompt tokens: {totals.prompt_tokens:,}, of which {totals.cached_tokens:,} "
                   f"({totals.cached_share or 0.0:.0%}) from the provider's prompt cache, billed at its cached rate.")
    elif totals.prompt_tokens:
        st.caption(f"Prompt tokens: {totals.prompt_tokens:,}, none from the provider's prompt cache.")
    if snap.status == "failed":
        st.error(f"The run failed: {snap.error or 'unknown error'}")
    elif snap.status == "stopped":
        st.warning(f"Stopped after {done} of {snap.total} problems.")


def stop_button(job: Job) -> None:
    """Outside the polling fragment, so it stays put (and clickable) while the view redraws."""
    stopping = job.stop_event.is_set()
    st.button("Stopping after this problem…" if stopping else "Stop", key="stop", on_click=job.stop,
              icon=":material/stop:", disabled=stopping)


def curves(frame: pd.DataFrame, simulated: bool, key: str = "live") -> None:
    """Accuracy (rolling by default, cumulative on request) and cost per problem, side by side."""
    cumulative = st.toggle("Cumulative accuracy", key="curve_cumulative",
                           help=f"off: accuracy over the last {charts.ROLLING_WINDOW} problems (what the loop does "
                                "now); on: over every problem so far")
    left, right = st.columns(2)
    left.plotly_chart(charts.accuracy_curve(frame, cumulative, simulated), key=f"{key}_accuracy")
    right.plotly_chart(charts.cost_curve(frame, simulated), key=f"{key}_cost")
    note = charts.trade_off_note(frame)
    if note:
        st.caption(f":material/info: {note}")


def feed(run_id: str, records: list[ProblemRecord] | tuple[ProblemRecord, ...], done: int) -> None:
    """The latest problems, newest first; opening one shows its chosen strategy; the inspector has all."""
    head, link = st.columns([3, 2], vertical_alignment="bottom")
    head.subheader("Latest problems", anchor=False)
    if done:
        link.page_link("pages/problems.py", label=f"Inspect all {done} problems", icon=":material/search:",
                       query_params={"run_id": run_id})
    if not records:
        st.caption("Finished problems appear here as the run goes.")
    for record in list(records)[::-1][:FEED_SIZE]:
        mark = ":gray[:material/help:]" if record.correct is None else (
            ":green[:material/check_circle:]" if record.correct else ":red[:material/cancel:]")
        how = "exploited memory" if record.exploited else f"explored {len(record.candidates)} candidates"
        label = f"#{record.idx + 1} {mark} **{record.chosen_strategy or 'no answer'}** · ${record.cost_usd:.4f} · {how}"
        box = st.expander(label, key=f"feed_{run_id}_{record.idx}", on_change="rerun")
        if box.open:
            with box:
                problem_summary(run_id, record)


def problem_summary(run_id: str, record: ProblemRecord) -> None:
    """The chosen answer, strategy graph with its trace, and the candidates; the inspector has the rest."""
    st.markdown(f"**Answer:** {markdown_escape(record.answer, 300) if record.answer else '*none*'}")
    with memory() as store:
        chosen = results_data.chosen_execution(store, run_id, record.idx)
    if chosen is None:
        st.caption("No strategy was chosen for this problem.")
    else:
        st.graphviz_chart(to_dot(chosen.strategy, chosen.trace))
        st.dataframe(pd.DataFrame(chosen.candidates), hide_index=True, column_config={
            "cost_usd": st.column_config.NumberColumn("$", format="$%.5f")})
    st.page_link("pages/problems.py", label=f"Open problem #{record.idx + 1} in the inspector (text, gold answer, "
                 "every candidate's trace)", icon=":material/search:",
                 query_params={"run_id": run_id, "problem": str(record.idx + 1)})


def live(job: Job, simulated: bool, call_cap: int) -> None:
    """This server's job: poll it while it runs; one full rerun when it ends stops the polling."""
    polling = not job.finished
    if polling:
        stop_button(job)
        note = call_cap_note(job.config.parallel, job.config.k, call_cap)
        if note:
            st.caption(f":material/speed: {note}.")

    @st.fragment(run_every=POLL_S if polling else None)
    def _live() -> None:
        snap = job.snapshot()
        if polling and snap.finished:
            st.rerun()
        totals = results_data.RunTotals.of(snap.records)
        status_line(snap, totals)
        curves(charts.live_frame(snap.records), simulated)
        feed(snap.run_id, snap.records, totals.done)

    _live()


def from_database(view: RunOnView) -> tuple[JobSnapshot, results_data.RunTotals, pd.DataFrame]:
    run_id = view.run["run_id"]
    with memory() as store:
        recent = results_data.run_records(store, run_id, last=FEED_SIZE)
        totals = results_data.run_totals(store, run_id)
        frame = results_data.curves(store, [run_id], max_points=CURVE_POINTS)
    snap = JobSnapshot(run_id=run_id, benchmark=view.run["benchmark"], total=view.run["n_problems"] or totals.done,
                       status=view.run["status"], records=tuple(recent), error=view.run["error"],
                       price_known=bool(view.run.get("price_known", True)))
    return snap, totals, frame


def watched(view: RunOnView, reload: Callable[[], RunOnView]) -> None:
    """A run another process runs: live from the database every few seconds, read-only."""

    @st.fragment(run_every=WATCH_EVERY_S)
    def _watch() -> None:
        current = reload()
        if not current.watched:
            st.rerun()  # it ended (or died): redraw as a past run, with Resume if it did not finish
        who = current.owner.describe() if current.owner else "another process (just starting)"
        st.info(f"Running in {who}: shown live and read-only. Stop it there (Ctrl-C for `egur run`); "
                "when it ends you can resume it here if it did not finish.", icon=":material/visibility:")
        snap, totals, frame = from_database(current)
        status_line(snap, totals)
        curves(frame, current.simulated, key="watch")
        feed(snap.run_id, snap.records, totals.done)

    _watch()


def past_run(view: RunOnView, resume: Callable[[], None]) -> None:
    """A run nobody runs now: from the database, with Resume when it did not finish."""
    snap, totals, frame = from_database(view)
    if view.resumable:
        what = ("was interrupted (its process ended)" if str(view.run["error"] or "").startswith("interrupted")
                else f"is {view.run['status']}")
        st.info(f"This run {what}. Resume continues after its last finished problem, with the same settings.",
                icon=":material/resume:")
        st.button("Resume", key="resume", icon=":material/resume:", type="primary", on_click=resume)
    elif view.run["status"] != "finished" and view.config is None:
        st.caption(f"This {view.run['method']} run is {view.run['status']}; baselines resume with `egur bench`.")
    status_line(snap, totals)
    curves(frame, view.simulated, key="past")
    feed(snap.run_id, snap.records, totals.done)
