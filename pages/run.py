"""Run page: configure a run or a comparison, start it in the background, watch it, stop or resume it.

Runs and comparisons live in jobs (egur_core.app.jobs, comparison_job) whose threads never touch
``st.*``; the views (pages/run_views.py, pages/compare_view.py) read snapshots, polled by fragments.
The run id (or comparison id) is kept in the URL, so a refreshed tab reattaches. Who runs a run is
decided in egur_core.app.run_state: this server (live), another process such as the CLI (live,
read-only), or nobody (past, with Resume unless finished). The form shows the settings of the run
on view.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from egur_core.app import results_data
from egur_core.app.comparison_job import start_comparison
from egur_core.app.jobs import JobRegistry, default_registry
from egur_core.app.run_state import RunOnView, form_values, run_on_view, settled
from egur_core.evals.comparison import METHOD_NAMES, METHODS, BenchConfig
from egur_core.evals.datasets.registry import benchmark_names
from egur_core.llm import Settings
from egur_core.reasoner.loop import ExploitRule, LoopConfig
from pages.common import db_path, memory, memory_file, model_badge, settings
from pages.compare_view import live_comparison, past_comparison
from pages.datasets_upload import benchmark_options, render_upload
from pages.run_views import live, past_run, watched

MODES = ["Run EGuR", "Compare methods"]
DEFAULTS = {"benchmark": benchmark_names()[0], "n": 20, "k": 3, "seed": 0, "exploit": True, "min_similarity": 0.9,
            "min_uses": 3, "min_success_rate": 0.75, "review": False, "label_free": False, "parallel": 1,
            "ordered": True, "methods": ["egur", "cot", "sc"], "seeds": "0", "egur_memory": "fresh",
            "run_mode": MODES[0]}


@st.cache_resource
def jobs() -> JobRegistry:
    """One registry per server process: jobs outlive the session (tab) that started them."""
    return default_registry()


def flash(kind: str, text: str) -> None:
    st.session_state["run_flash"] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop("run_flash", (None, None))
    if kind:
        getattr(st, kind)(text)


# -- the form ---------------------------------------------------------------------------------------
def prefill(view: RunOnView | None) -> None:
    """Defaults once per session; the settings of the run on view whenever a different run is opened."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    run_id = view.run["run_id"] if view else None
    if view is not None and view.config is not None and st.session_state.get("_form_of") != run_id:
        st.session_state.update(form_values(view.config))
        st.session_state["run_mode"] = MODES[0]
    st.session_state["_form_of"] = run_id


def run_fields() -> None:
    names, labels = benchmark_options()
    st.selectbox("Benchmark", names, format_func=labels.get, key="benchmark")
    c1, c2, c3 = st.columns(3)
    c1.number_input("n", 1, 10_000, key="n", help="problems to run (capped at the benchmark's size: aime2025 has 30)")
    c2.number_input("k", 1, 8, key="k", help="candidate strategies the Guide writes per problem")
    if st.session_state["run_mode"] == MODES[0]:
        c3.number_input("Seed", 0, 10**9, key="seed")
        st.number_input("Problems in flight", 1, 16, key="parallel",
                        help="W problems run at once; each reads the memory the problem W places before it left, "
                             "and edits land in problem order, so a seed gives the same run at any W (exploiting "
                             f"starts later the wider W is). All share the settings' cap of {settings().concurrency} "
                             "model calls at once, and each problem runs up to k candidates at once.")
        st.toggle("Reproducible order", key="ordered",
                  help="on: edits land in problem order, so a seed gives the same run whatever the timing; off: each "
                       "problem reads the memory as it starts and commits when done, so a slow problem holds "
                       "nobody back (faster on a slow endpoint), but a rerun may differ. No effect with 1 in flight.")
    else:
        c3.text_input("Seeds", key="seeds", help="comma list, e.g. 0,1,2: each seed is a separate stream")


def exploit_fields() -> None:
    with st.expander("Exploit rule", icon=":material/bolt:"):
        st.caption("Run a proven library strategy alone (no Guide, no Consolidator) when it is close enough.")
        st.toggle("Exploit proven strategies", key="exploit")
        st.slider("Min similarity", 0.0, 1.0, step=0.01, key="min_similarity")
        st.number_input("Min uses", 1, 1000, key="min_uses")
        st.slider("Min success rate", 0.0, 1.0, step=0.05, key="min_success_rate")
    st.toggle("Review mode", key="review", help="queue memory edits for review on the Memory page")
    st.toggle("Label-free", key="label_free", help="learn from verifiers and agreement, not labels")


def compare_fields() -> None:
    st.multiselect("Methods", list(METHODS), key="methods", format_func=lambda m: METHOD_NAMES.get(m, m),
                   help="EGuR and the baselines run on the same problems, model and scorer (as `egur bench`)")
    st.radio("EGuR memory", ["fresh", "shared"], key="egur_memory", horizontal=True,
             help="fresh: EGuR starts empty, as the baselines do (fair); shared: it uses this file's memory")
    st.toggle("Label-free", key="label_free", help="memories learn from verifiers and agreement, not labels")


def config_form(busy: bool) -> bool:
    """The settings; True when Start was pressed."""
    st.radio("What to run", MODES, key="run_mode", horizontal=True, label_visibility="collapsed")
    with st.form("run_config", border=False):
        run_fields()
        (exploit_fields if st.session_state["run_mode"] == MODES[0] else compare_fields)()
        return st.form_submit_button("Start" if st.session_state["run_mode"] == MODES[0] else "Start comparison",
                                     key="start", type="primary", icon=":material/play_arrow:", disabled=busy,
                                     width="stretch")


def loop_config() -> LoopConfig:
    s = st.session_state
    return LoopConfig(benchmark=s.benchmark, n=int(s.n), k=int(s.k), seed=int(s.seed), parallel=int(s.parallel),
                      ordered=s.ordered, review=s.review, label_free=s.label_free, exploit=ExploitRule(
                          enabled=s.exploit, min_similarity=s.min_similarity, min_uses=int(s.min_uses),
                          min_success_rate=s.min_success_rate))


def bench_config() -> BenchConfig:
    s = st.session_state
    seeds = [int(x) for x in str(s.seeds).replace(" ", "").split(",") if x]
    return BenchConfig(benchmark=s.benchmark, n=int(s.n), k=int(s.k), methods=list(s.methods), seeds=seeds,
                       egur_memory=s.egur_memory, label_free=s.label_free, cache=False)


# -- starting ---------------------------------------------------------------------------------------
def seeded(chosen: Settings) -> Callable[[int], Settings]:
    """Settings per seed (the simulated model follows the seed); a plain function, safe in a job's thread."""
    return lambda seed: chosen.model_copy(update={"sim_seed": seed}) if chosen.is_simulated else chosen


def start_run(config: LoopConfig, run_id: str | None = None) -> None:
    """Start (or resume) a run job and open it; problems become messages, not tracebacks."""
    from_run = None
    try:
        if run_id:
            with memory() as store:
                from_run = results_data.run_records(store, run_id)
        job = jobs().start(seeded(settings())(config.seed), memory_file(db_path()), config, run_id=run_id,
                           history=from_run)
    except (ValueError, RuntimeError, OSError) as exc:
        flash("error", f"Could not {'resume' if run_id else 'start'} the run: {exc}")
        return
    if job.config.n < config.n:
        flash("info", f"{config.benchmark} has {job.config.n} problems: running all {job.config.n}, not {config.n}.")
    st.query_params.clear()
    st.query_params["run_id"] = st.session_state["last_run_id"] = job.run_id
    st.session_state["_form_of"] = job.run_id


def start_compare() -> None:
    try:
        config = bench_config()
        job = start_comparison(jobs(), seeded(settings()), memory_file(db_path()), config)
    except (ValueError, RuntimeError, OSError) as exc:
        flash("error", f"Could not start the comparison: {exc}")
        return
    if job.config.n < config.n:
        flash("info", f"{config.benchmark} has {job.config.n} problems: comparing on all {job.config.n}.")
    st.query_params.clear()
    st.query_params["comparison"] = st.session_state["last_comparison"] = job.comparison_id
    st.session_state.pop("last_run_id", None)


def resume(run_id: str) -> None:
    with memory() as store:
        view = run_on_view(store, db_path(), run_id)
    if view.config is None or not view.resumable:
        flash("warning", f"Run `{run_id}` cannot be resumed now (it is {view.run['status']}).")
        return
    start_run(view.config, run_id=run_id)


# -- the page ---------------------------------------------------------------------------------------
def on_view() -> tuple[str | None, str | None, RunOnView | None]:
    """The comparison or run in the URL (else this tab's last one), and the run's state."""
    comparison = st.query_params.get("comparison")
    run_id = None if comparison else st.query_params.get("run_id") or st.session_state.get("last_run_id")
    if run_id:
        st.query_params["run_id"] = st.session_state["last_run_id"] = run_id
        with memory() as store:
            try:
                return None, run_id, run_on_view(store, db_path(), run_id)
            except KeyError:
                return None, run_id, None
    return comparison, None, None


def reload(run_id: str) -> RunOnView:
    with memory() as store:
        return run_on_view(store, db_path(), run_id)


def run_view(run_id: str, view: RunOnView | None) -> None:
    job = jobs().get(run_id)
    if job is not None and not job.finished:
        live(job, settings().is_simulated, settings().concurrency)
        return
    view = settled(view, lambda: reload(run_id))  # the job may have ended since the view was read above
    if view is None:
        st.warning(f"No run `{run_id}` in this memory file.")
    elif view.watched:
        watched(view, lambda: reload(run_id))
    else:
        past_run(view, lambda: resume(run_id))


def comparison_view(comparison_id: str) -> None:
    job = jobs().get(comparison_id)
    if job is not None:
        live_comparison(job, settings().is_simulated)
    else:
        past_comparison(comparison_id)


def empty_state() -> None:
    st.info("Pick a benchmark and press **Start**; the simulated model runs offline, no key needed. "
            "Accuracy and cost curves fill in as problems finish; each problem shows the strategy that answered it. "
            "**Compare methods** runs EGuR and baselines on the same problems, as `egur bench` does.",
            icon=":material/play_circle:")
    for job in jobs().active():
        job_id = job.job_id
        if st.button(f"Watch the job in progress: {job_id}", key=f"attach_{job_id}"):
            st.query_params["comparison" if job_id.startswith("cmp-") else "run_id"] = job_id
            st.rerun()


st.title(":material/play_arrow: Run", anchor=False)
model_badge()
comparison_id, run_id, view = on_view()
prefill(view)
settings_col, view_col = st.columns([1.35, 2.65], gap="medium")
with settings_col:
    if config_form(busy=bool(jobs().active())):
        (start_run(loop_config()) if st.session_state["run_mode"] == MODES[0] else start_compare())
        st.rerun()
    render_upload()
    if jobs().active():
        st.caption("One job at a time: stop it, or wait for it to finish, to start another.")
with view_col:
    show_flash()
    if comparison_id:
        comparison_view(comparison_id)
    elif run_id:
        run_view(run_id, view)
    else:
        empty_state()
