"""The Run page in AppTest: empty state, a real (simulated) run started and stopped, reattaching.

AppTest cannot fire ``run_every`` timers, so the tests call ``.run()`` until the job is done, the
way the fragment would poll.
"""

from __future__ import annotations

import json
import time

import duckdb

from egur_core.evals.datasets.registry import benchmark_names
from egur_core.llm.config import simulated_settings

RUN = "pages/run.py"


def progress_text(at) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def wait_for_text(at, *needles: str, timeout: float = 60.0):
    """Rerun the page until its progress bar shows one of ``needles``."""
    deadline = time.monotonic() + timeout
    while not any(needle in progress_text(at) for needle in needles):
        assert time.monotonic() < deadline, progress_text(at)
        time.sleep(0.2)
        at.run()
    return at


def poll_until_finished(at, timeout: float = 60.0):
    return wait_for_text(at, "problems · finished", "problems · stopped", timeout=timeout)


def test_empty_state_explains_what_to_do(empty_db, open_page):
    at = open_page(RUN)
    assert not at.exception
    assert "Pick a benchmark and press **Start**" in at.info[0].value
    assert at.selectbox(key="benchmark").options == benchmark_names()
    assert "Simulated model" in at.caption[0].value
    assert not at.get("progress")


def test_start_runs_the_loop_and_records_problems(empty_db, open_page):
    at = open_page(RUN)
    at.number_input(key="n").set_value(4)
    at.number_input(key="k").set_value(2)
    at.button(key="start").click().run()
    assert not at.exception and not at.error
    run_id = at.query_params["run_id"]
    poll_until_finished(at)
    assert "4/4" in progress_text(at)
    feed = [e.label for e in at.expander if e.label.startswith("#")]
    assert len(feed) == 4 and feed[0].startswith("#4")
    assert at.button(key="start").disabled is False
    with duckdb.connect(str(empty_db)) as con:
        rows = con.execute("SELECT count(*) FROM problems WHERE run_id = ? AND finished_at IS NOT NULL",
                           [run_id]).fetchone()[0]
        status = con.execute("SELECT status, k FROM runs WHERE run_id = ?", [run_id]).fetchone()
    assert rows == 4 and status == ("finished", 2)


def test_a_run_started_with_problems_in_flight_runs_that_many_at_once(empty_db, open_page):
    at = open_page(RUN)
    at.number_input(key="n").set_value(4)
    at.number_input(key="k").set_value(2)
    at.number_input(key="parallel").set_value(3)
    at.toggle(key="ordered").set_value(False)
    at.button(key="start").click().run()
    run_id = at.query_params["run_id"]
    poll_until_finished(at)
    assert "4/4" in progress_text(at)
    with duckdb.connect(str(empty_db)) as con:
        config = json.loads(con.execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchone()[0])
    assert config["loop"]["parallel"] == 3 and config["loop"]["ordered"] is False


def test_stop_ends_the_run_early(empty_db, open_page):
    at = open_page(RUN)
    at.session_state["settings"] = simulated_settings(latency_s=0.05)
    at.number_input(key="n").set_value(60)
    at.button(key="start").click().run()
    assert at.button(key="start").disabled  # no second run while this one goes
    deadline = time.monotonic() + 30
    while not progress_text(at).startswith("**1/") and time.monotonic() < deadline:
        at.run()
    at.button(key="stop").click().run()
    poll_until_finished(at)
    assert "stopped" in progress_text(at)
    assert "Stopped after" in at.warning[0].value
    with duckdb.connect(str(empty_db)) as con:
        status, done = con.execute("SELECT status, (SELECT count(*) FROM problems p WHERE p.run_id = r.run_id "
                                   "AND finished_at IS NOT NULL) FROM runs r").fetchone()
    assert status == "stopped" and 1 <= done < 60


def test_a_past_run_reopens_from_the_url_with_its_strategy_graph(populated_db, open_page):
    with duckdb.connect(str(populated_db)) as con:
        run_id, n = con.execute("SELECT run_id, n_problems FROM runs WHERE method = 'egur'").fetchone()
    at = open_page(RUN)
    at.query_params["run_id"] = run_id
    at.run()
    assert not at.exception
    assert f"{n}/{n}" in progress_text(at) and "finished" in progress_text(at)
    at.session_state[f"feed_{run_id}_0"] = True  # open the first problem's expander
    at.run()
    dot = at.get("graphviz_chart")[0].proto.spec
    assert dot.startswith("digraph") and "#dcfce7" in dot  # the trace overlay marks steps that ran


def test_an_unknown_run_id_is_a_message_not_a_traceback(empty_db, open_page):
    at = open_page(RUN)
    at.query_params["run_id"] = "run-that-never-was"
    at.run()
    assert not at.exception
    assert "No run `run-that-never-was`" in at.warning[0].value


def test_a_failed_start_is_shown_as_an_error(empty_db, open_page, monkeypatch):
    from egur_core.app import jobs

    def refuse(*args, **kwargs):
        raise RuntimeError("endpoint unreachable")

    monkeypatch.setattr(jobs.JobRegistry, "start", refuse)
    at = open_page(RUN)
    at.button(key="start").click().run()
    assert not at.exception
    assert "Could not start the run: endpoint unreachable" in at.error[0].value


def test_a_failed_run_shows_its_error_and_offers_to_resume(empty_db, open_page):
    from egur_core.app.services import open_memory

    with open_memory(empty_db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=3, config={"loop": {"benchmark": "sat3", "n": 3}})
        store.set_run_status(run_id, "failed", "OSError: disk full")
    at = open_page(RUN)
    at.query_params["run_id"] = run_id
    at.run()
    assert not at.exception
    assert "The run failed: OSError: disk full" in at.error[0].value
    at.button(key="resume").click().run()
    poll_until_finished(at)
    assert "3/3" in progress_text(at) and "finished" in progress_text(at)


def test_a_run_stopped_here_can_be_resumed_in_the_same_server(empty_db, open_page):
    at = open_page(RUN)
    at.session_state["settings"] = simulated_settings(latency_s=0.2)
    at.number_input(key="n").set_value(6)
    at.number_input(key="k").set_value(1)
    at.button(key="start").click().run()
    run_id = at.query_params["run_id"]
    deadline = time.monotonic() + 30
    while not progress_text(at).startswith("**1/") and time.monotonic() < deadline:
        at.run()
    at.button(key="stop").click().run()
    poll_until_finished(at)
    at.run()  # the next render, as after a reload: the job is over, the run is not finished
    assert "Resume continues after its last finished problem" in "\n".join(i.value for i in at.info)
    at.button(key="resume").click().run()
    assert at.query_params["run_id"] == run_id
    wait_for_text(at, "6/6** problems · finished")
    with duckdb.connect(str(empty_db)) as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] == "finished"


def test_a_run_another_process_runs_is_shown_live_and_read_only(empty_db, open_page, lease_holder):
    from egur_core.app.services import open_memory

    with open_memory(empty_db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=5, config={"loop": {"benchmark": "sat3", "n": 5}})
    holder = lease_holder(empty_db, run_id)
    at = open_page(RUN)
    at.query_params["run_id"] = run_id
    at.run()
    assert not at.exception
    assert f"Running in the cli (process {holder.pid}" in "\n".join(i.value for i in at.info)
    assert not [b for b in at.button if b.key in ("resume", "stop")]


def test_a_killed_run_is_marked_interrupted_and_offers_resume(empty_db, open_page, lease_holder):
    from egur_core.app.services import open_memory

    with open_memory(empty_db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=2, config={"loop": {"benchmark": "sat3", "n": 2}})
    holder = lease_holder(empty_db, run_id)
    holder.kill()  # as a killed `egur run` would: its lease goes with it
    holder.wait(10)
    at = open_page(RUN)
    at.query_params["run_id"] = run_id
    at.run()
    assert "was interrupted" in "\n".join(i.value for i in at.info)
    assert "interrupted: the process running it ended" in at.error[0].value
    at.button(key="resume").click().run()
    wait_for_text(at, "2/2** problems · finished")


def test_a_run_whose_problems_in_flight_outgrow_the_call_cap_says_so(empty_db, open_page):
    at = open_page(RUN)
    at.number_input(key="n").set_value(40)
    at.number_input(key="parallel").set_value(4)  # 4 problems x 3 candidates > the default cap of 8
    at.button(key="start").click().run()
    [note] = [c.value for c in at.caption if "model calls at once" in c.value]
    assert "12 or more model calls at once, but the settings allow 8" in note


def test_the_form_shows_the_settings_of_the_run_on_view(empty_db, open_page):
    from egur_core.app.services import open_memory
    from egur_core.reasoner.loop import LoopConfig

    config = LoopConfig(benchmark="bbeh_mini", n=7, k=5, seed=3, review=True, parallel=4, ordered=False)
    with open_memory(empty_db).session() as store:
        run_id = store.create_run(benchmark="bbeh_mini", n_problems=7, k=5, seed=3,
                                  config={"loop": config.model_dump()})
        store.set_run_status(run_id, "stopped")
    at = open_page(RUN)
    at.query_params["run_id"] = run_id
    at.run()
    assert at.selectbox(key="benchmark").value == "bbeh_mini"
    assert (at.number_input(key="n").value, at.number_input(key="k").value, at.number_input(key="seed").value) == \
        (7, 5, 3)
    assert at.toggle(key="review").value is True and at.number_input(key="parallel").value == 4
    assert at.toggle(key="ordered").value is False


def test_compare_methods_runs_egur_and_baselines_and_links_to_results(empty_db, open_page):
    at = open_page(RUN)
    at.radio(key="run_mode").set_value("Compare methods").run()
    at.multiselect(key="methods").set_value(["egur", "cot"])
    at.number_input(key="n").set_value(3)
    at.number_input(key="k").set_value(2)
    at.text_input(key="seeds").set_value("0")
    at.button(key="start").click().run()
    assert not at.exception and not at.error
    comparison = at.query_params["comparison"]
    wait_for_text(at, "6/6** problems · finished")
    links = [link for link in at.get("page_link") if link.proto.page == "results"]
    assert links and links[0].proto.query_string == f"comparison={comparison}"
    with duckdb.connect(str(empty_db)) as con:
        methods = sorted(m for (m,) in con.execute("SELECT method FROM runs WHERE comparison_id = ?",
                                                     [comparison]).fetchall())
    assert methods == ["cot", "egur"]


def test_a_problem_count_above_the_benchmark_size_is_said_not_silently_capped(empty_db, open_page):
    at = open_page(RUN)
    at.selectbox(key="benchmark").set_value("aime2025")
    at.number_input(key="n").set_value(50)
    at.button(key="start").click().run()
    assert "aime2025 has 30 problems: running all 30, not 50." in "\n".join(i.value for i in at.info)
    at.button(key="stop").click().run()
