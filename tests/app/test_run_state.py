"""What the Run page shows for a run id: who runs it, whether it resumes, and its form values."""

from __future__ import annotations

from pathlib import Path

import pytest

from egur_core.app.ownership import RunLeases
from egur_core.app.results_data import default_selection, run_options
from egur_core.app.run_state import FORM_KEYS, form_values, loop_config, run_on_view, settled
from egur_core.app.services import open_memory
from egur_core.reasoner.loop import ExploitRule, LoopConfig


@pytest.fixture
def memory(tmp_path: Path):
    return open_memory(tmp_path / "m.duckdb")


def test_a_stopped_egur_run_is_resumable_with_its_own_settings(memory):
    config = LoopConfig(benchmark="sat3", n=4, k=2, seed=9)
    with memory.session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=4, config={"loop": config.model_dump()})
        store.set_run_status(run_id, "stopped")
        view = run_on_view(store, memory.path, run_id)
    assert view.state == "ended" and view.resumable and view.config == config and not view.watched


def test_a_run_this_process_runs_is_neither_watched_nor_resumable(memory):
    leases = RunLeases()
    with memory.session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=4, config={"loop": {"benchmark": "sat3"}})
        leases.claim(memory.path, run_id, "dashboard")
        view = run_on_view(store, memory.path, run_id, leases)
    leases.release(memory.path, run_id)
    assert view.state == "here" and not view.resumable and not view.watched


def test_finished_and_baseline_runs_are_not_resumable_here(memory):
    with memory.session() as store:
        done = store.create_run(benchmark="sat3", config={"loop": {"benchmark": "sat3"}})
        store.set_run_status(done, "finished")
        baseline = store.create_run(benchmark="sat3", method="cot", config={"loop": {"benchmark": "sat3"}})
        store.set_run_status(baseline, "stopped")
        assert not run_on_view(store, memory.path, done).resumable
        assert loop_config(store.get_run(baseline)) is None and not run_on_view(store, memory.path, baseline).resumable


def test_an_unknown_run_is_a_key_error(memory):
    with memory.session() as store, pytest.raises(KeyError):
        run_on_view(store, memory.path, "run-nope")


def test_form_values_cover_every_form_key():
    values = form_values(LoopConfig(benchmark="aime2025", n=5, exploit=ExploitRule(min_uses=7)))
    assert set(values) == set(FORM_KEYS) and values["min_uses"] == 7 and values["benchmark"] == "aime2025"


def test_results_default_to_the_focused_comparison_then_run_then_newest(memory):
    with memory.session() as store:
        a = store.create_run(benchmark="sat3", comparison_id="cmp-1")
        b = store.create_run(benchmark="sat3", method="cot", comparison_id="cmp-1")
        solo = store.create_run(benchmark="sat3")
        newest = store.create_run(benchmark="aime2025")
        runs = run_options(store)
    assert sorted(default_selection(runs, comparison="cmp-1")) == sorted([a, b])
    assert default_selection(runs, run_id=solo) == [solo]
    assert sorted(default_selection(runs, run_id=a)) == sorted([a, b])  # a run of a comparison opens the comparison
    assert default_selection(runs) == [newest]
    by_benchmark = default_selection(runs, benchmark="sat3")  # newest sat3 run has no comparison: its benchmark's
    assert by_benchmark[0] == solo and set(by_benchmark) == {solo, a, b}


def test_a_view_read_while_this_servers_job_ran_is_read_again_once_it_is_over(memory):
    leases = RunLeases()
    with memory.session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=4, config={"loop": {"benchmark": "sat3"}})
        leases.claim(memory.path, run_id, "dashboard")
        stale = run_on_view(store, memory.path, run_id, leases)  # read while the job runs
        store.set_run_status(run_id, "stopped")  # the job stops and lets go of the run
    leases.release(memory.path, run_id)

    def reread():
        with memory.session() as store:
            return run_on_view(store, memory.path, run_id, leases)

    view = settled(stale, reread)
    assert (stale.run["status"], stale.state) == ("running", "here")
    assert (view.run["status"], view.state, view.resumable) == ("stopped", "ended", True)


def test_a_view_of_a_run_nobody_runs_is_drawn_as_read(memory):
    with memory.session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=4)
        store.set_run_status(run_id, "stopped")
        view = run_on_view(store, memory.path, run_id)
    assert settled(view, lambda: pytest.fail("read again")) is view and settled(None, lambda: pytest.fail()) is None
