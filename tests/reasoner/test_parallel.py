"""Many problems in flight, with a defined meaning: the same seed gives the same run whatever the timing."""

from __future__ import annotations

import asyncio
import json
import random
import threading

import duckdb
import pytest

from egur_core.memory.ops import AddEntry, AddNote, RateNote, UpdateEntry, UpdateNote
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import LoopConfig
from egur_core.reasoner.ordering import AsReadyOrder, ProblemOrder, Stopped
from egur_core.sim import SimulatedTransport
from tests.reasoner.loop_runner import run_loop


class Jittery:
    """The simulated model with a random delay per request: the same replies, a different timing each run."""

    def __init__(self, seed: int, jitter_seed: int):
        self.inner, self.rng = SimulatedTransport(seed=seed), random.Random(jitter_seed)

    async def handle_async_request(self, request):
        await asyncio.sleep(self.rng.uniform(0, 0.02))
        return await self.inner.handle_async_request(request)


def _untimed(snapshot: str) -> dict:
    """A before/after snapshot without its clock readings and run id (they differ between any two runs)."""
    return {kind: {item: {k: v for k, v in row.items() if not k.endswith("_at") and k != "created_run_id"}
                   for item, row in rows.items()}
            for kind, rows in json.loads(snapshot).items()}


def audit_log(store: MemoryStore) -> list[tuple]:
    return [(r["kind"], r["actor"], r["idx"], r["payload"], _untimed(r["before"]), _untimed(r["after"]))
            for r in store.query("SELECT kind, actor, idx, payload, \"before\", \"after\" FROM memory_ops "
                                 "ORDER BY op_id")]


def parallel_run(parallel: int, jitter_seed: int):
    store = MemoryStore(duckdb.connect(":memory:"))
    _, outcomes = run_loop(store, LoopConfig(benchmark="sat3", n=12, k=3, seed=1, parallel=parallel),
                           transport=Jittery(1, jitter_seed))
    return store, outcomes


def test_the_same_seed_gives_the_same_memory_and_audit_log_whatever_the_timing():
    first, one = parallel_run(4, jitter_seed=1)
    second, two = parallel_run(4, jitter_seed=2)
    assert audit_log(first) == audit_log(second)
    assert [(o.idx, o.answer, o.exploited) for o in one] == [(o.idx, o.answer, o.exploited) for o in two]


def test_outcomes_and_events_arrive_in_problem_order():
    events = []
    store = MemoryStore(duckdb.connect(":memory:"))
    run_loop(store, LoopConfig(benchmark="sat3", n=8, k=2, seed=3, parallel=4), transport=Jittery(3, 5),
             on_event=lambda e: events.append(e.idx) if e.kind == "problem_finished" else None)
    assert events == list(range(8))


def test_at_most_w_problems_are_in_flight():
    async def scenario():
        order, running, peak = ProblemOrder(10, parallel=3), set(), []

        async def problem(position: int):
            async with order.starting(position):
                running.add(position)
                peak.append(len(running))
            await asyncio.sleep(0.01 * (10 - position))  # later problems finish first
            async with order.committing(position):
                running.discard(position)

        await asyncio.gather(*(problem(p) for p in range(10)))
        return max(peak)

    assert asyncio.run(scenario()) == 3


def test_a_problem_reads_the_memory_left_by_the_problems_w_places_before_it():
    async def scenario():
        order, memory, seen = ProblemOrder(6, parallel=2), [], {}

        async def problem(position: int):
            async with order.starting(position):
                seen[position] = list(memory)
            await asyncio.sleep(0.001 * position)
            async with order.committing(position):
                memory.append(position)

        await asyncio.gather(*(problem(p) for p in range(6)))
        return seen

    assert asyncio.run(scenario()) == {0: [], 1: [], 2: [0], 3: [0, 1], 4: [0, 1, 2], 5: [0, 1, 2, 3]}


def test_as_ready_a_slow_problem_holds_nobody():
    async def scenario():
        order, committed, peak, running = AsReadyOrder(6, parallel=2), [], [], set()

        async def problem(position: int):
            async with order.starting(position):
                running.add(position)
                peak.append(len(running))
            await asyncio.sleep(0.3 if position == 0 else 0.01)  # the first problem is slow
            async with order.committing(position):
                running.discard(position)
                committed.append(position)

        await asyncio.gather(*(problem(p) for p in range(6)))
        return committed, max(peak)

    committed, peak = asyncio.run(scenario())
    assert committed == [1, 2, 3, 4, 5, 0] and peak == 2


def test_as_ready_a_problem_reads_every_commit_made_before_it_starts():
    async def scenario():
        order, memory, seen = AsReadyOrder(4, parallel=2), [], {}

        async def problem(position: int):
            async with order.starting(position):
                seen[position] = list(memory)
            await asyncio.sleep(0.2 if position == 0 else 0.01)
            async with order.committing(position):
                memory.append(position)

        await asyncio.gather(*(problem(p) for p in range(4)))
        return seen

    assert asyncio.run(scenario()) == {0: [], 1: [], 2: [1], 3: [1, 2]}


def test_a_run_as_ready_solves_every_problem_once_and_resumes():
    store = MemoryStore(duckdb.connect(":memory:"))
    config = LoopConfig(benchmark="sat3", n=8, k=2, seed=3, parallel=4, ordered=False)
    stop = threading.Event()
    run_id, first = run_loop(store, config, transport=Jittery(3, 5), stop=stop,
                             on_event=lambda e: stop.set() if e.kind == "problem_finished" else None)
    assert 1 <= len(first) < 8 and store.get_run(run_id)["status"] == "stopped"
    _, rest = run_loop(store, config, transport=Jittery(3, 6), run_id=run_id)
    assert sorted(o.idx for o in first + rest) == list(range(8))
    assert store.finished_indices(run_id) == set(range(8)) and store.get_run(run_id)["status"] == "finished"


def test_a_halted_order_starts_nothing_more():
    async def scenario():
        order = ProblemOrder(3, parallel=1, should_stop=lambda: True)
        with pytest.raises(Stopped):
            async with order.starting(0):
                pass

    asyncio.run(scenario())


def test_an_edit_of_an_entry_another_problem_changed_meanwhile_is_queued_not_applied():
    store = MemoryStore(duckdb.connect(":memory:"))
    store.apply(AddNote(text="Check the parity first."), actor="person")
    watermark = store.last_op_id()  # problem A reads the memory here
    store.apply(UpdateNote(note_id=1, text="Check parity, then the sign."), actor="consolidator", idx=2)  # B commits
    late = UpdateNote(note_id=1, text="Check parity last.")  # A's Consolidator, unaware of B
    [(op, why)] = store.changed_since(watermark, [late, AddNote(text="An unrelated lesson.")])
    assert op is late and "problem 3" in why


def test_a_rating_of_a_note_another_problem_rated_meanwhile_still_counts():
    store = MemoryStore(duckdb.connect(":memory:"))
    store.apply(AddNote(text="Check the parity first."), actor="person")
    watermark = store.last_op_id()
    store.apply(RateNote(note_id=1, helpful=1), actor="consolidator", idx=2)
    assert store.changed_since(watermark, [RateNote(note_id=1, helpful=1)]) == []


SOLVER = {"name": "sat-solver", "steps": [{"id": "solve", "op": "tool", "tool": "sat_solver", "input": "{problem}",
                                          "out": "model"}, {"id": "final", "op": "answer", "from": "model"}]}


@pytest.fixture
def learned_store() -> MemoryStore:
    """A memory with one note in it."""
    store = MemoryStore(duckdb.connect(":memory:"))
    store.apply(AddNote(text="Count the clauses first."), actor="person")
    return store


def test_an_entry_another_problem_cached_meanwhile_is_not_added_again(learned_store):
    watermark = learned_store.last_op_id()  # problem 3 reads the memory here
    learned_store.apply(AddEntry(signature="sat3 problems the solver decides", strategy=SOLVER, benchmark="sat3"),
                        actor="consolidator", run_id="run-a", idx=0)
    done = learned_store.apply_problem_ops(
        [AddEntry(signature="sat3 problems, solved by the solver", strategy=SOLVER, benchmark="sat3"),
         AddNote(text="The solver is exact.")], "run-a", 2, read_at=watermark)
    assert len(learned_store.list_entries()) == 1 and len(done.applied) == 1  # the note only
    assert done.dropped == ["add_entry: duplicate, not added: entry 1 (problem 1) cached the same strategy after "
                            "this problem started"]
    [record] = learned_store.proposals()
    assert record.status == "rejected" and record.note.startswith("duplicate: entry 1")


def test_an_entry_the_consolidator_saw_may_be_added_again_under_another_signature(learned_store):
    learned_store.apply(AddEntry(signature="sat3 problems the solver decides", strategy=SOLVER, benchmark="sat3"),
                        actor="consolidator", run_id="run-a", idx=0)
    watermark = learned_store.last_op_id()  # the entry was there when the problem read the memory
    done = learned_store.apply_problem_ops(
        [AddEntry(signature="sat3 problems with many clauses", strategy=SOLVER, benchmark="sat3")], "run-a", 1,
        read_at=watermark)
    assert len(done.applied) == 1 and len(learned_store.list_entries()) == 2


def test_a_strategy_counts_for_the_oldest_live_entry_of_its_benchmark_that_caches_it(learned_store):
    for benchmark in ("bbeh:object_counting", "sat3", "sat3"):
        learned_store.apply(AddEntry(signature=f"{benchmark} problems", strategy=SOLVER, benchmark=benchmark),
                            actor="person")
    solver_hash = learned_store.get_entry(1)["strategy_hash"]
    assert learned_store.entry_holding(solver_hash, "sat3") == 2
    learned_store.apply(UpdateEntry(entry_id=2, banned=True), actor="person")
    assert learned_store.entry_holding(solver_hash, "sat3") == 3
    assert learned_store.entry_holding(solver_hash, "aime2025") is None


def test_every_run_of_a_cached_strategy_counts_for_its_entry_however_the_guide_wrote_it():
    store = MemoryStore(duckdb.connect(":memory:"))
    run_loop(store, LoopConfig(benchmark="sat3", n=12, k=3, seed=1, parallel=4))  # fresh copies are common then
    rows = store.query("""
        SELECT l.entry_id, l.uses, (SELECT count(*) FROM executions x JOIN problems p USING (run_id, idx)
                                    WHERE x.strategy_hash = l.strategy_hash AND p.benchmark = l.benchmark
                                      AND x.idx > l.created_idx AND x.correct IS NOT NULL AND NOT x.stale) AS runs
        FROM library l WHERE l.origin = 'learned'
          AND l.entry_id = (SELECT min(entry_id) FROM library o WHERE o.strategy_hash = l.strategy_hash
                            AND o.benchmark = l.benchmark)""")
    assert rows and any(r["runs"] for r in rows)
    assert [(r["entry_id"], r["uses"]) for r in rows] == [(r["entry_id"], r["runs"]) for r in rows]
