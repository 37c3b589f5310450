"""Who runs a run: leases held by real processes, released by the kernel when a process dies."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest

from egur_core.app.ownership import (
    QUIET_S,
    LeaseEvents,
    RunLease,
    RunLeases,
    RunOwnedElsewhere,
    liveness,
    mark_if_interrupted,
    read_owner,
    reap_interrupted,
)
from egur_core.app.services import open_memory
from egur_core.memory.records import utcnow
from egur_core.reasoner.events import LoopEvent


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "m.duckdb"


@pytest.fixture
def holder(db: Path, lease_holder):
    return lambda run_id: lease_holder(db, run_id)


def new_run(db: Path, age_s: float = 0.0) -> dict:
    with open_memory(db).session() as store:
        run_id = store.create_run(benchmark="sat3", n_problems=3)
        if age_s:
            store.execute("UPDATE runs SET created_at = ? WHERE run_id = ?", [utcnow() - timedelta(seconds=age_s),
                                                                              run_id])
        return store.get_run(run_id)


def test_a_run_held_by_another_process_cannot_be_claimed_and_says_by_whom(db, holder):
    proc = holder("run-1")
    with pytest.raises(RunOwnedElsewhere, match=f"the cli \\(process {proc.pid}"):
        RunLease(db, "run-1", "dashboard")
    owner = read_owner(db, "run-1")
    assert owner is not None and owner.pid == proc.pid and owner.kind == "cli"


def test_a_killed_owner_frees_the_run_at_once(db, holder):
    proc = holder("run-1")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert read_owner(db, "run-1") is None
    with RunLease(db, "run-1", "dashboard") as lease:
        assert lease.held and read_owner(db, "run-1").kind == "dashboard"
    assert read_owner(db, "run-1") is None


def test_one_process_cannot_run_the_same_run_twice(db):
    leases = RunLeases()
    leases.claim(db, "run-1", "dashboard")
    with pytest.raises(RunOwnedElsewhere, match="this process"):
        leases.claim(db, "run-1", "dashboard")
    leases.release(db, "run-1")
    leases.claim(db, "run-1", "dashboard")  # free again once released
    leases.release(db, "run-1")


def test_liveness_tells_here_elsewhere_starting_interrupted_and_ended(db, holder):
    leases = RunLeases()
    fresh, old = new_run(db), new_run(db, age_s=QUIET_S + 5)
    mine, theirs = new_run(db, age_s=QUIET_S + 5), new_run(db, age_s=QUIET_S + 5)
    leases.claim(db, mine["run_id"], "dashboard")
    holder(theirs["run_id"])
    with open_memory(db).session() as store:
        assert liveness(store, db, mine, leases)[0] == "here"
        state, owner = liveness(store, db, theirs, leases)
        assert state == "elsewhere" and owner.kind == "cli"
        assert liveness(store, db, fresh, leases)[0] == "starting"  # created a moment ago, lease not yet taken
        assert liveness(store, db, old, leases)[0] == "interrupted"
        store.set_run_status(fresh["run_id"], "finished")
        assert liveness(store, db, store.get_run(fresh["run_id"]), leases)[0] == "ended"
    leases.release(db, mine["run_id"])


def test_a_run_whose_owner_died_is_interrupted_at_once(db, holder):
    run = new_run(db)  # just created: without a lease file it would count as starting
    proc = holder(run["run_id"])
    proc.kill()
    proc.wait(10)
    with open_memory(db).session() as store:
        assert liveness(store, db, run)[0] == "interrupted"


def test_an_interrupted_run_is_marked_failed_with_a_reason_once(db):
    run = new_run(db, age_s=QUIET_S + 5)
    with open_memory(db).session() as store:
        state, _, updated = mark_if_interrupted(store, db, run)
        stored = store.get_run(run["run_id"])
        assert state == "interrupted" and updated["status"] == stored["status"] == "failed"
        assert stored["error"].startswith("interrupted: the process running it ended")
        assert reap_interrupted(store, db) == []  # already marked


def test_lease_events_hold_each_run_from_start_to_finish(db):
    leases = RunLeases()
    listener = LeaseEvents(db, "bench", leases)
    listener(LoopEvent(kind="run_started", run_id="run-a"))
    listener(LoopEvent(kind="run_started", run_id="run-b"))
    assert leases.holds(db, "run-a") and leases.holds(db, "run-b")
    listener(LoopEvent(kind="run_finished", run_id="run-a"))
    assert not leases.holds(db, "run-a") and leases.holds(db, "run-b")
    listener.release()
    assert not leases.holds(db, "run-b")
