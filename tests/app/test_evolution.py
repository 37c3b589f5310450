"""A run's strategy versions as a tree, with per-version statistics from the run's own executions."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.app.evolution import chosen_timeline, evolution_dot, run_strategies, shown_versions
from egur_core.memory.records import ExecutionRecord, ProblemResult
from egur_core.memory.store import MemoryStore
from egur_core.strategy.model import Strategy


def cot(name: str, temperature: float = 0.0) -> Strategy:
    return Strategy.model_validate({"name": name, "steps": [
        {"id": "t", "op": "llm", "prompt": "{problem}", "out": "r", "temperature": temperature},
        {"id": "a", "op": "answer", "from": "r"}]})


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


@pytest.fixture
def run(store) -> tuple[str, dict[str, str]]:
    """Root -> child -> grandchild; the run executes child and grandchild only, plus an unrelated version."""
    root = store.save_strategy(cot("root"))
    child = store.save_strategy(cot("child", 0.3), parent_hash=root, created_by="guide")
    grand = store.save_strategy(cot("grand", 0.6), parent_hash=child, created_by="person")
    lone = store.save_strategy(cot("lone", 0.9))
    run_id = store.create_run(benchmark="sat3", n_problems=3)
    plan = [(0, child, True, 0.2), (1, grand, False, 0.1), (2, grand, True, 0.3), (2, lone, False, 0.5)]
    for idx in range(3):
        store.start_problem(run_id, idx, f"p{idx}", "text")
    for n, (idx, h, ok, cost) in enumerate(plan):
        chosen = n != 3
        eid = store.record_execution(ExecutionRecord(run_id=run_id, idx=idx, candidate=n, strategy_hash=h,
                                                     correct=ok, cost_usd=cost, chosen=chosen, exploited=idx == 2))
        if chosen:
            store.finish_problem(ProblemResult(run_id=run_id, idx=idx, correct=ok, chosen_execution_id=eid,
                                               chosen_strategy_hash=h, exploited=idx == 2))
    return run_id, {"root": root, "child": child, "grand": grand, "lone": lone}


def test_versions_have_their_stats_in_the_run_and_ancestors_are_included(store, run):
    run_id, h = run
    frame = run_strategies(store, run_id).set_index("name")
    assert set(frame.index) == {"root", "child", "grand", "lone"}
    assert not frame.loc["root", "in_run"] and frame.loc["root", "uses"] == 0  # an ancestor, not run here
    grand = frame.loc["grand"]
    assert (grand["uses"], grand["chosen"], grand["accuracy"], grand["first_problem"], grand["last_chosen"]) == \
        (2, 2, 0.5, 2, 3)
    assert grand["mean_cost"] == pytest.approx(0.2) and grand["parent_hash"] == h["child"]


def test_the_tree_draws_parent_to_child_edges_and_lays_out_loners_in_rows(store, run):
    run_id, h = run
    dot = evolution_dot(shown_versions(run_strategies(store, run_id)))
    assert f'"{h["root"]}" -> "{h["child"]}";' in dot and f'"{h["child"]}" -> "{h["grand"]}";' in dot
    assert "ancestor, not run here" in dot and "2 uses · 50% right" in dot
    assert f'{{ rank=same; "{h["lone"]}" }}' in dot


def test_only_the_most_used_versions_are_drawn_but_their_ancestors_stay(store, run):
    run_id, h = run
    shown = shown_versions(run_strategies(store, run_id), limit=1)
    assert set(shown["name"]) == {"grand", "child", "root"}


def test_the_timeline_says_which_version_answered_each_problem(store, run):
    run_id, _ = run
    timeline = chosen_timeline(store, run_id)
    assert timeline["problem"].tolist() == [1, 2, 3] and timeline["name"].tolist() == ["child", "grand", "grand"]
    assert timeline["exploited"].tolist() == [False, False, True]
