"""The background job manager: a real loop on the simulated model in a thread, observed from outside."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from egur_core.app.jobs import Job, JobRegistry
from egur_core.app.services import open_memory
from egur_core.llm.config import simulated_settings
from egur_core.reasoner.events import LoopEvent
from egur_core.reasoner.loop import LoopConfig
from egur_core.strategy.roles import ROLES


@pytest.fixture
def memory(tmp_path):
    return open_memory(tmp_path / "jobs.duckdb")


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_job_runs_in_the_background_and_collects_events(memory):
    registry = JobRegistry()
    job = registry.start(simulated_settings(), memory, LoopConfig(benchmark="sat3", n=4, k=2))
    assert registry.get(job.run_id) is job
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.done == 4 and snap.total == 4
    assert [r.idx for r in snap.records] == [0, 1, 2, 3]
    first = snap.records[0]
    assert not first.exploited and len(first.candidates) == 2 and first.cost_usd > 0
    assert first.chosen_strategy and first.answer and set(first.cost_by_role) == set(ROLES)
    assert snap.accuracy == sum(bool(r.correct) for r in snap.records) / 4
    with memory.session() as store:
        assert store.get_run(job.run_id)["status"] == "finished"
        assert store.get_run(job.run_id)["done"] == 4
    assert registry.active() == []


def test_stop_ends_the_run_after_the_current_problem(memory):
    registry = JobRegistry()
    job = registry.start(simulated_settings(latency_s=0.05), memory, LoopConfig(benchmark="sat3", n=40, k=2))
    wait_for(lambda: job.snapshot().done >= 1)
    job.stop()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == "stopped" and 1 <= snap.done < 40
    with memory.session() as store:
        run = store.get_run(job.run_id)
    assert run["status"] == "stopped" and run["done"] == snap.done


def test_a_job_knows_which_problems_are_in_flight_at_once():
    job = Job("run-x", LoopConfig(benchmark="sat3", n=3, parallel=2))
    for kind, idx in [("run_started", None), ("problem_started", 0), ("problem_started", 1)]:
        job.handle(LoopEvent(kind=kind, run_id="run-x", idx=idx, payload={"total": 3}))
    assert job.snapshot().in_flight == {0, 1} and job.snapshot().current == 1
    job.handle(LoopEvent(kind="problem_finished", run_id="run-x", idx=1, payload={"correct": True}))
    assert job.snapshot().in_flight == {0} and job.snapshot().done == 1
    job.handle(LoopEvent(kind="problem_finished", run_id="run-x", idx=0, payload={"correct": False}))
    assert job.snapshot().in_flight == frozenset() and job.snapshot().current is None


class FailingOnce:
    """A memory file whose n-th session fails (a full disk, a vanished mount), then recovers."""

    def __init__(self, memory, fail_at: int):
        self.memory, self.fail_at, self.sessions = memory, fail_at, 0

    @contextmanager
    def session(self):
        self.sessions += 1
        if self.sessions == self.fail_at:
            raise OSError("disk full")
        with self.memory.session() as store:
            yield store


def test_a_failure_in_the_thread_ends_the_job_with_a_message(memory):
    job = JobRegistry().start(simulated_settings(), FailingOnce(memory, fail_at=2), LoopConfig(benchmark="sat3", n=2))
    assert job.wait(30)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.error == "OSError: disk full"
    with memory.session() as store:
        run = store.get_run(job.run_id)
    assert run["status"] == "failed" and "disk full" in run["error"]


def test_an_unknown_benchmark_is_refused_before_any_thread_starts(memory):
    registry = JobRegistry()
    with pytest.raises(ValueError, match="unknown benchmark"):
        registry.start(simulated_settings(), memory, LoopConfig(benchmark="no-such-benchmark", n=2))
    assert registry.active() == []


def test_an_unbuildable_client_fails_before_any_thread_starts(memory):
    def broken(settings):
        raise ValueError("endpoint misconfigured")

    registry = JobRegistry()
    with pytest.raises(ValueError, match="misconfigured"):
        registry.start(simulated_settings(), memory, LoopConfig(benchmark="sat3", n=1), client_factory=broken)
    assert registry.active() == []


def test_a_running_run_cannot_be_started_twice(memory):
    registry = JobRegistry()
    job = registry.start(simulated_settings(latency_s=0.05), memory, LoopConfig(benchmark="sat3", n=20, k=1))
    with pytest.raises(RuntimeError, match="already running"):
        registry.start(simulated_settings(), memory, LoopConfig(benchmark="sat3", n=20, k=1), run_id=job.run_id)
    job.stop()
    job.wait(60)


def test_resuming_keeps_history_and_finishes_the_rest(memory):
    registry = JobRegistry()
    config = LoopConfig(benchmark="sat3", n=30, k=1)
    first = registry.start(simulated_settings(latency_s=0.05), memory, config)
    wait_for(lambda: first.snapshot().done >= 2)
    first.stop()
    first.wait(60)
    done = first.snapshot().records
    second = registry.start(simulated_settings(), memory, config.model_copy(update={"n": 30}), run_id=first.run_id,
                            history=list(done))
    assert second.wait(60)
    snap = second.snapshot()
    assert snap.status == "finished" and snap.done == 30
    assert [r.idx for r in snap.records] == list(range(30))


def test_events_fold_into_snapshots_without_touching_earlier_ones():
    job = Job("run-x", LoopConfig(benchmark="sat3", n=2))
    before = job.snapshot()
    job.handle(LoopEvent(kind="run_started", run_id="run-x", payload={"total": 2}))
    job.handle(LoopEvent(kind="problem_started", run_id="run-x", idx=0))
    assert job.snapshot().stage == "retrieving memory" and job.snapshot().current == 0
    job.handle(LoopEvent(kind="candidates_proposed", run_id="run-x", idx=0, payload={"names": ["a", "b"]}))
    job.handle(LoopEvent(kind="problem_finished", run_id="run-x", idx=0, payload={
        "correct": True, "cost_usd": 0.5, "exploited": False, "chosen_strategy": "a", "answer": "7"}))
    snap = job.snapshot()
    assert before.status == "starting" and before.records == ()
    assert snap.status == "running" and snap.done == 1 and snap.records[0].candidates == ("a", "b")
    job.handle(LoopEvent(kind="run_finished", run_id="run-x", payload={"status": "stopped"}))
    assert job.snapshot().finished and job.snapshot().status == "stopped"


def test_a_bad_event_is_reported_not_raised():
    job = Job("run-x", LoopConfig(benchmark="sat3", n=2))
    job.handle(LoopEvent(kind="problem_finished", run_id="run-x", idx=0, payload={"cost_usd": "not a number"}))
    assert "problem_finished" in job.snapshot().error
