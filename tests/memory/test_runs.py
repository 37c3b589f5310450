from __future__ import annotations

import pytest

from egur_core.memory.records import ExecutionRecord, ProblemResult, RunConfig
from egur_core.memory.store import MemoryStore
from egur_core.strategy.model import Strategy
from tests.memory import store, strategy_dict  # noqa: F401


@pytest.fixture
def run(store: MemoryStore) -> str:  # noqa: F811
    return store.create_run(RunConfig(benchmark="sat", n_problems=3, k=2, simulated=True, config={"x": 1}))


def solve(store: MemoryStore, run_id: str, idx: int, correct: bool = True) -> int:  # noqa: F811
    store.start_problem(run_id, idx, f"p{idx}", "text", "SAT")
    ex = store.record_execution(ExecutionRecord(run_id=run_id, idx=idx, strategy=Strategy.model_validate(
        strategy_dict()), answer="SAT", correct=correct, cost_usd=0.01, trace={"steps": ["think"]}))
    store.finish_problem(ProblemResult(run_id=run_id, idx=idx, answer="SAT", correct=correct,
                                       chosen_execution_id=ex, cost_guide=0.02, cost_executor=0.01))
    return ex


def test_create_run_stores_config_and_status(store: MemoryStore, run: str) -> None:  # noqa: F811
    row = store.get_run(run)
    assert (row["status"], row["simulated"], row["config"]) == ("running", True, {"x": 1})
    store.set_run_status(run, "stopped", error="user stop")
    assert store.get_run(run)["status"] == "stopped"


def test_finish_problem_records_costs_by_role_and_chosen_execution(store: MemoryStore, run: str) -> None:  # noqa: F811
    ex = solve(store, run, 0)
    row = store.problem_rows(run).iloc[0]
    assert row["cost_usd"] == pytest.approx(0.03) and row["cost_guide"] == pytest.approx(0.02)
    executions = store.executions_for(run, 0)
    assert executions[0]["execution_id"] == ex and executions[0]["chosen"]
    assert executions[0]["trace"] == {"steps": ["think"]}


def test_finished_indices_lets_a_killed_run_resume(store: MemoryStore, run: str) -> None:  # noqa: F811
    solve(store, run, 0)
    solve(store, run, 1)
    store.start_problem(run, 2, "p2", "text")  # killed here, mid-problem
    store.record_execution(ExecutionRecord(run_id=run, idx=2, strategy_hash=None, answer="partial"))
    assert store.finished_indices(run) == {0, 1}
    store.start_problem(run, 2, "p2", "text")  # the resumed run redoes it
    assert store.executions_for(run, 2) == []
    assert [e["stale"] for e in store.executions_for(run, 2, include_stale=True)] == [True]


def test_starting_a_finished_problem_is_refused(store: MemoryStore, run: str) -> None:  # noqa: F811
    solve(store, run, 0)
    with pytest.raises(ValueError, match="already finished"):
        store.start_problem(run, 0)


def test_problem_rows_carry_running_accuracy_and_cumulative_cost(store: MemoryStore, run: str) -> None:  # noqa: F811
    solve(store, run, 0, correct=True)
    solve(store, run, 1, correct=False)
    df = store.problem_rows(run)
    assert list(df["running_accuracy"]) == [1.0, 0.5]
    assert list(df["cumulative_cost"].round(2)) == [0.03, 0.06]


def test_list_runs_summarises_progress(store: MemoryStore, run: str) -> None:  # noqa: F811
    solve(store, run, 0)
    row = store.list_runs().iloc[0]
    assert (row["run_id"], row["done"], row["accuracy"]) == (run, 1, 1.0)


def test_unknown_run_is_a_key_error(store: MemoryStore) -> None:  # noqa: F811
    with pytest.raises(KeyError):
        store.get_run("nope")


def test_save_strategy_is_idempotent_by_hash(store: MemoryStore) -> None:  # noqa: F811
    a = store.save_strategy(Strategy.model_validate(strategy_dict()))
    b = store.save_strategy(strategy_dict())
    assert a == b and len(store.list_strategies()) == 1
    assert store.get_strategy(a).name == "cot"


def test_a_baselines_runs_of_a_strategy_are_kept_apart_from_egurs(store: MemoryStore) -> None:  # noqa: F811
    egur = store.create_run(RunConfig(benchmark="sat", method="egur", n_problems=1, k=1))
    cot = store.create_run(RunConfig(benchmark="sat", method="cot", n_problems=2, k=1))
    solve(store, egur, 0, correct=True)
    solve(store, cot, 0, correct=False)
    solve(store, cot, 1, correct=False)
    row = store.list_strategies().iloc[0]
    assert (row["executions"], row["accuracy"], row["baseline_runs"]) == (1, 1.0, 2)


def test_executions_recorded_together_get_consecutive_ids_in_order(store: MemoryStore, run: str) -> None:  # noqa: F811
    store.start_problem(run, 0, "p0", "text")
    first = store.record_execution(ExecutionRecord(run_id=run, idx=0, candidate=0, answer="a"))
    strategy = Strategy.model_validate(strategy_dict())
    ids = store.record_executions([ExecutionRecord(run_id=run, idx=0, candidate=c, answer=a, chosen=c == 2,
                                                   strategy=strategy if c == 2 else None)
                                   for c, a in ((1, "b"), (2, "c"))])
    assert ids == [first + 1, first + 2]
    stored = {e["execution_id"]: (e["candidate"], e["answer"], e["chosen"], e["strategy_hash"] is not None)
              for e in store.executions_for(run, 0)}
    assert stored == {first: (0, "a", False, False), first + 1: (1, "b", False, False), first + 2: (2, "c", True, True)}


def test_recording_no_executions_writes_nothing(store: MemoryStore, run: str) -> None:  # noqa: F811
    store.start_problem(run, 0, "p0", "text")
    assert store.record_executions([]) == [] and store.executions_for(run, 0) == []


def test_a_problem_of_an_unknown_run_is_refused(store: MemoryStore) -> None:  # noqa: F811
    with pytest.raises(KeyError):
        store.start_problem("nope", 0, "p0", "text")
