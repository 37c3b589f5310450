"""Run page: configure a run, start it in the background, watch it learn, stop it.

The run lives in a ``Job`` thread (egur_core.app.jobs) that never touches ``st.*``; this page only
reads snapshots, polled by a fragment once a second while the job runs. The run id is kept in
the URL, so a refreshed tab reattaches to a running job, or shows a past run from the database.
"""

from __future__ import annotations

import streamlit as st

from egur_core.app import charts, results_data
from egur_core.app.jobs import Job, JobRegistry, default_registry
from egur_core.app.progress import JobSnapshot
from egur_core.reasoner.loop import ExploitRule, LoopConfig
from egur_core.strategy.graph import to_dot
from pages.common import db_path, memory, memory_file, model_badge, settings
from pages.datasets_upload import benchmark_options, render_upload

FEED_SIZE = 10
CURVE_POINTS = 300  # a past run's curves are thinned in SQL; a chart has no more pixels than that


@st.cache_resource
def jobs() -> JobRegistry:
    """One registry per server process: jobs outlive the session (tab) that started them."""
    return default_registry()


def config_form(running: bool) -> LoopConfig | None:
    """The run's settings; returns a config when Start was pressed."""
    with st.form("run_config", border=False):
        names, labels = benchmark_options()
        benchmark = st.selectbox("Benchmark", names, format_func=labels.get, key="benchmark")
        c1, c2, c3 = st.columns(3)
        n = c1.number_input("Problems", 1, 10_000, 20, key="n")
        k = c2.number_input("k", 1, 8, 3, key="k", help="candidate strategies the Guide writes per problem")
        seed = c3.number_input("Seed", 0, 10**9, 0, key="seed")
        with st.expander("Exploit rule", icon=":material/bolt:"):
            st.caption("Run a proven library strategy alone (no Guide, no Consolidator) when it is close enough.")
            enabled = st.toggle("Exploit proven strategies", True, key="exploit")
            sim = st.slider("Min similarity", 0.0, 1.0, 0.9, 0.01, key="min_similarity")
            uses = st.number_input("Min uses", 1, 1000, 3, key="min_uses")
            rate = st.slider("Min success rate", 0.0, 1.0, 0.75, 0.05, key="min_success_rate")
        review = st.toggle("Review mode", key="review", help="queue memory edits for review on the Memory page")
        label_free = st.toggle("Label-free", key="label_free", help="learn from verifiers and agreement, not labels")
        started = st.form_submit_button("Start", key="start", type="primary", icon=":material/play_arrow:",
                                        disabled=running, width="stretch")
    if not started:
        return None
    return LoopConfig(benchmark=benchmark, n=int(n), k=int(k), seed=int(seed), review=review, label_free=label_free,
                      exploit=ExploitRule(enabled=enabled, min_similarity=sim, min_uses=int(uses),
                                          min_success_rate=rate))


def start(config: LoopConfig, run_id: str | None = None) -> bool:
    """Start (or resume) a job and put its id in the URL; problems become messages, not tracebacks."""
    if jobs().active():
        st.warning("A run is already in progress; stop it first or wait for it to finish.")
        return False
    chosen = settings()
    if chosen.is_simulated:
        chosen = chosen.model_copy(update={"sim_seed": config.seed})
    history = None
    try:
        if run_id:
            with memory() as store:
                history = results_data.run_records(store, run_id)
        job = jobs().start(chosen, memory_file(db_path()), config, run_id=run_id, history=history)
    except Exception as exc:  # noqa: BLE001  shown to the user, the page keeps working
        st.error(f"Could not start the run: {exc}")
        return False
    st.query_params["run_id"] = job.run_id
    return True


def status_line(snap: JobSnapshot, totals: results_data.RunTotals, job: Job | None) -> None:
    """Progress bar, headline numbers and the Stop button."""
    done = totals.done
    acc = f"{totals.accuracy:.0%}" if totals.accuracy is not None else "–"
    stage = f" · problem {snap.current + 1}: {snap.stage}" if snap.current is not None and snap.stage else ""
    st.caption(f"Run `{snap.run_id}` on **{snap.benchmark}**")
    st.progress(min(done / max(snap.total, 1), 1.0), text=f"**{done}/{snap.total}** problems · {snap.status}{stage}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Accuracy", acc)
    m2.metric("Cost", f"${totals.cost_usd:.4f}")
    m3.metric("Per problem", f"${totals.cost_usd / done:.5f}" if done else "–")
    m4.metric("Exploited", f"{totals.exploited}/{done}")
    if job is not None and not snap.finished:
        stopping = job.stop_event.is_set()
        st.button("Stopping after this problem…" if stopping else "Stop", key="stop", on_click=job.stop,
                  icon=":material/stop:", disabled=stopping)
    if snap.status == "failed":
        st.error(f"The run failed: {snap.error or 'unknown error'}")
    elif snap.status == "stopped":
        st.warning(f"Stopped after {done} of {snap.total} problems.")


def curves(frame) -> None:
    left, right = st.columns(2)
    left.plotly_chart(charts.accuracy_curve(frame), key="live_accuracy")
    right.plotly_chart(charts.cost_curve(frame), key="live_cost")


def feed(snap: JobSnapshot, done: int) -> None:
    """The latest problems, newest first; opening one draws its chosen strategy with the trace."""
    st.subheader("Problems", anchor=False)
    if not snap.records:
        st.caption("Finished problems appear here as the run goes.")
    for record in list(snap.records)[::-1][:FEED_SIZE]:
        mark = ":gray[:material/help:]" if record.correct is None else (
            ":green[:material/check_circle:]" if record.correct else ":red[:material/cancel:]")
        how = "exploited memory" if record.exploited else f"explored {len(record.candidates)} candidates"
        label = f"#{record.idx + 1} {mark} **{record.chosen_strategy or 'no answer'}** · ${record.cost_usd:.4f} · {how}"
        box = st.expander(label, key=f"feed_{snap.run_id}_{record.idx}", on_change="rerun")
        if box.open:
            with box:
                problem_detail(snap.run_id, record)
    if done > FEED_SIZE:
        st.caption(f"Showing the last {FEED_SIZE} of {done}; the Results page has them all.")


def problem_detail(run_id: str, record) -> None:
    st.markdown(f"**Answer:** `{record.answer}` · candidates proposed: {', '.join(record.candidates) or '—'}"
                + (f" · memory ops applied {record.ops_applied}, proposed {record.ops_proposed}"
                   if record.ops_applied or record.ops_proposed else ""))
    with memory() as store:
        chosen = results_data.chosen_execution(store, run_id, record.idx)
    if chosen is None:
        st.caption("No strategy was chosen for this problem.")
        return
    st.graphviz_chart(to_dot(chosen.strategy, chosen.trace))
    st.dataframe(chosen.candidates, hide_index=True, column_config={
        "cost_usd": st.column_config.NumberColumn("$", format="$%.5f")})


def live(job: Job) -> None:
    """Poll the job once a second while it runs; one full rerun when it ends stops the polling."""
    polling = not job.finished

    @st.fragment(run_every=1.0 if polling else None)
    def _live() -> None:
        snap = job.snapshot()
        if polling and snap.finished:
            st.rerun()
        totals = results_data.RunTotals.of(snap.records)
        status_line(snap, totals, job)
        curves(charts.live_frame(snap.records))
        feed(snap, totals.done)

    _live()


def past_run(run_id: str) -> None:
    """A run this process is not running: show it from the database, offer to resume it."""
    with memory() as store:
        try:
            run = store.get_run(run_id)
        except KeyError:
            st.warning(f"No run `{run_id}` in this memory file.")
            return
        recent = results_data.run_records(store, run_id, last=FEED_SIZE)
        totals = results_data.run_totals(store, run_id)
        frame = results_data.curves(store, [run_id], max_points=CURVE_POINTS)
    snap = JobSnapshot(run_id=run_id, benchmark=run["benchmark"], total=run["n_problems"] or totals.done,
                       status=run["status"], records=tuple(recent), error=run["error"])
    if run["status"] != "finished":
        st.info("This run is not running in this dashboard (it was stopped, failed or the server restarted). "
                "Resume continues after its last finished problem.")
        if st.button("Resume", key="resume", icon=":material/resume:") and \
                start(LoopConfig.model_validate(run["config"]["loop"]), run_id=run_id):
            st.rerun()
    status_line(snap, totals, None)
    curves(frame)
    feed(snap, totals.done)


def empty_state() -> None:
    st.info("Pick a benchmark and press **Start**; the simulated model runs offline, no key needed. "
            "Accuracy and cost curves fill in as problems finish; each problem shows the strategy that answered it.",
            icon=":material/play_circle:")
    for job in jobs().active():
        if st.button(f"Watch the run in progress: {job.run_id}", key=f"attach_{job.run_id}"):
            st.query_params["run_id"] = job.run_id
            st.rerun()


st.title(":material/play_arrow: Run", anchor=False)
model_badge()
run_id = st.query_params.get("run_id") or st.session_state.get("last_run_id")  # the URL, or this tab's last run
if run_id:
    st.query_params["run_id"] = st.session_state["last_run_id"] = run_id
current = jobs().get(run_id)
settings_col, view_col = st.columns([1.1, 2.9], gap="large")
with settings_col:
    new_config = config_form(running=current is not None and not current.finished)
    render_upload()
    if new_config is not None and start(new_config):
        st.rerun()  # redraw with the form disabled and the live view polling
with view_col:
    if current is not None:
        live(current)
    elif run_id:
        past_run(run_id)
    else:
        empty_state()
