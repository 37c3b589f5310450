"""A comparison in a background job: every method on the same problems, followed live, stoppable."""

from __future__ import annotations

import time

import pytest

from egur_core.app.comparison_job import start_comparison
from egur_core.app.jobs import JobRegistry
from egur_core.app.ownership import read_owner
from egur_core.app.services import open_memory
from egur_core.evals.comparison import BenchConfig
from egur_core.llm.config import simulated_settings


@pytest.fixture
def memory(tmp_path):
    return open_memory(tmp_path / "cmp.duckdb")


def settings_for(seed: int):
    return simulated_settings(seed=seed)


def test_a_comparison_runs_every_method_and_seed_and_records_them_under_one_id(memory):
    job = start_comparison(JobRegistry(), settings_for, memory,
                           BenchConfig(benchmark="sat3", n=3, methods=["egur", "cot"], seeds=[0, 1], cache=False))
    assert job.wait(120)
    snap = job.snapshot()
    assert snap.status == "finished" and len(snap.methods) == 4
    assert all(m.done == 3 and m.status == "finished" and m.run_id for m in snap.methods)
    with memory.session() as store:
        runs = store.list_runs(comparison_id=snap.comparison_id)
    assert sorted(runs["run_id"]) == sorted(snap.run_ids) and set(runs["status"]) == {"finished"}
    assert all(read_owner(memory.path, r) is None for r in snap.run_ids)  # leases let go at the end


def test_a_running_comparison_holds_its_runs_and_stops_between_problems(memory):
    job = start_comparison(JobRegistry(), lambda s: simulated_settings(seed=s, latency_s=0.1), memory,
                           BenchConfig(benchmark="sat3", n=30, methods=["cot"], seeds=[0], cache=False))
    deadline = time.monotonic() + 60
    while not job.snapshot().methods[0].done and time.monotonic() < deadline:
        time.sleep(0.05)
    run_id = job.snapshot().methods[0].run_id
    owner = read_owner(memory.path, run_id)
    assert owner is not None and owner.kind == "dashboard"
    job.stop()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "stopped" and 1 <= snap.methods[0].done < 30
    with memory.session() as store:
        assert store.get_run(run_id)["status"] == "stopped"


def test_unknown_methods_or_no_seed_are_refused_before_any_thread(memory):
    registry = JobRegistry()
    with pytest.raises(ValueError, match="unknown: magic"):
        start_comparison(registry, settings_for, memory, BenchConfig(benchmark="sat3", methods=["magic"]))
    with pytest.raises(ValueError, match="one seed"):
        start_comparison(registry, settings_for, memory, BenchConfig(benchmark="sat3", seeds=[]))
    with pytest.raises(ValueError, match="unknown benchmark"):
        start_comparison(registry, settings_for, memory, BenchConfig(benchmark="nope"))
    assert registry.active() == []


def test_a_capped_count_runs_the_whole_benchmark(memory):
    job = start_comparison(JobRegistry(), settings_for, memory,
                           BenchConfig(benchmark="aime2025", n=50, methods=["cot"], cache=False))
    assert job.config.n == 30 and job.snapshot().methods[0].total == 30
    job.stop()
    job.wait(120)
