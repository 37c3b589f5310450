"""Two runs problem by problem: matched by problem id, grouped by who got what right."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.app.run_diff import diff_counts, problem_diff
from egur_core.memory.records import ProblemResult
from egur_core.memory.store import MemoryStore


def run_with(store: MemoryStore, outcomes: dict[str, bool], order: list[str]) -> str:
    """A finished run answering problems ``order`` (by id) right or wrong as ``outcomes`` says."""
    run_id = store.create_run(benchmark="sat3", n_problems=len(order))
    for idx, pid in enumerate(order):
        store.start_problem(run_id, idx, pid, f"text of {pid}", gold=f"gold {pid}")
        store.finish_problem(ProblemResult(run_id=run_id, idx=idx, answer=f"{run_id[-3:]} says {pid}",
                                           correct=outcomes[pid]))
    return run_id


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


def test_problems_are_matched_by_id_not_position(store):
    a = run_with(store, {"p1": True, "p2": False, "p3": True}, ["p1", "p2", "p3"])
    b = run_with(store, {"p1": False, "p2": True, "p3": True}, ["p3", "p1", "p2"])  # another order
    rows = problem_diff(store, a, b, "all")
    assert rows["problem_id"].tolist() == ["p1", "p2", "p3"] and rows["number"].tolist() == [1, 2, 3]
    assert rows["b_number"].tolist() == [2, 3, 1]
    assert rows.set_index("problem_id").loc["p1", "b_answer"].endswith("says p1")
    assert rows.set_index("problem_id").loc["p2", "gold"] == "gold p2"


@pytest.mark.parametrize(("which", "expected"), [
    ("only_a", ["p1"]), ("only_b", ["p2"]), ("both_right", ["p3"]), ("both_wrong", ["p4"]),
    ("differ", ["p1", "p2"]), ("all", ["p1", "p2", "p3", "p4"])])
def test_each_group_holds_exactly_its_problems(store, which, expected):
    order = ["p1", "p2", "p3", "p4"]
    a = run_with(store, {"p1": True, "p2": False, "p3": True, "p4": False}, order)
    b = run_with(store, {"p1": False, "p2": True, "p3": True, "p4": False}, order)
    assert problem_diff(store, a, b, which)["problem_id"].tolist() == expected
    assert diff_counts(store, a, b) == {"shared": 4, "only_a": 1, "only_b": 1, "both_right": 1, "both_wrong": 1}


def test_runs_with_no_shared_problem_have_an_empty_diff(store):
    a = run_with(store, {"p1": True}, ["p1"])
    b = run_with(store, {"q1": True}, ["q1"])
    assert problem_diff(store, a, b, "all").empty and diff_counts(store, a, b)["shared"] == 0
