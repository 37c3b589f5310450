"""Ask: the loop's stages one at a time for one question, recorded like a run of one problem."""

from __future__ import annotations

import asyncio

import duckdb
import pytest

from egur_core.app.services import build_client
from egur_core.llm.config import simulated_settings
from egur_core.memory.ops import AddNote
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.ask import AskError, AskLoop, AskState, load, marks_to_feedback
from egur_core.reasoner.loop import LoopConfig
from egur_core.reasoner.method import OpenStore
from egur_core.reasoner.task import Task
from egur_core.tools.registry import default_registry

TASK = Task(id="ask-1", benchmark="ask", text="How many legs do 3 spiders have? End with 'The answer is: N'.")


@pytest.fixture
def store() -> MemoryStore:
    memory = MemoryStore(duckdb.connect(":memory:"))
    memory.apply(AddNote(text="Spiders have eight legs.", benchmark="ask"), actor="person")
    return memory


def step(store: MemoryStore, action):
    """One step on a fresh client and event loop, as the page and the CLI run them."""
    async def go():
        client = build_client(simulated_settings())
        try:
            return await action(AskLoop(client, default_registry(), OpenStore(store)))
        finally:
            await client.aclose()
    return asyncio.run(go())


def begin(store: MemoryStore, k: int = 3) -> AskState:
    return step(store, lambda loop: loop.begin(TASK, LoopConfig(benchmark="ask", k=k)))


def test_asking_retrieves_memory_and_proposes_k_candidates_without_running_them(store):
    state = begin(store)
    assert len(state.candidates) == 3 and all(c.rationale for c in state.candidates)
    assert [n.text for n in state.retrieved.notes] == ["Spiders have eight legs."]
    run = store.get_run(state.run_id)
    assert run["method"] == "ask" and run["status"] == "running" and run["n_problems"] == 1
    assert store.executions_for(state.run_id, 0) == []
    kinds = store.query("SELECT kind, count(*) AS n FROM retrievals WHERE run_id = ? GROUP BY kind", [state.run_id])
    assert {r["kind"]: r["n"] for r in kinds} == {"note": 1, "entry": len(state.retrieved.entries)}


def test_picked_candidates_run_first_and_the_rest_later(store):
    state = begin(store)
    state = step(store, lambda loop: loop.run_candidates(state, [1]))
    assert list(state.results) == [1] and state.chosen == 1 and state.stage == "ran"
    state = step(store, lambda loop: loop.run_candidates(state))
    assert sorted(state.results) == [0, 1, 2] and state.chosen in state.results
    with pytest.raises(AskError, match="nothing to run"):
        step(store, lambda loop: loop.run_candidates(state))


def test_the_right_answer_feeds_the_consolidator_and_its_edits_are_applied(store):
    state = ran(store)
    feedback = {i: False for i in state.results}
    state = step(store, lambda loop: loop.learn(state, feedback, gold="24"))
    assert state.stage == "consolidated" and state.consolidation is not None and state.consolidation.ops
    ops_before = len(store.op_log())
    state = step(store, lambda loop: _commit(loop, state, apply=True))
    log = store.op_log()
    assert state.stage == "finished" and state.applied == len(log) - ops_before > 0
    assert set(log.head(state.applied)["run_id"]) == {state.run_id} and set(log.head(state.applied)["actor"]) == {
        "consolidator"}
    problem = store.problem_rows(state.run_id).iloc[0]
    assert problem["gold"] == "24" and not problem["correct"] and problem["finished_at"] is not None
    assert {e["correct"] for e in store.executions_for(state.run_id, 0)} == {False}
    assert store.get_run(state.run_id)["status"] == "finished"


def ran(store: MemoryStore) -> AskState:
    state = begin(store)
    return step(store, lambda loop: loop.run_candidates(state))


async def _commit(loop: AskLoop, state: AskState, apply: bool) -> AskState:
    return loop.commit(state, apply)


def test_edits_can_be_queued_for_review_instead(store):
    state = ran(store)
    state = step(store, lambda loop: loop.learn(state, {i: False for i in state.results}))
    state = step(store, lambda loop: _commit(loop, state, apply=False))
    assert state.applied == 0 and state.proposed > 0
    assert {p.run_id for p in store.proposals()} == {state.run_id}
    assert not (store.op_log()["run_id"] == state.run_id).any()


def test_steps_out_of_order_are_refused_and_change_nothing(store):
    state = begin(store)
    with pytest.raises(AskError, match="run the candidates first"):
        step(store, lambda loop: loop.learn(state, {}))
    with pytest.raises(AskError, match="tell EGuR what was right first"):
        step(store, lambda loop: _commit(loop, state, apply=True))
    assert load(store, state.run_id).stage == "proposed" and store.executions_for(state.run_id, 0) == []


def test_a_question_is_continued_from_the_memory_file(store):
    state = begin(store)
    step(store, lambda loop: loop.run_candidates(state, [0]))
    again = load(store, state.run_id)
    assert again.stage == "ran" and list(again.results) == [0] and again.task == TASK
    with pytest.raises(KeyError, match="no question"):
        load(store, "run-missing")


def test_without_feedback_it_learns_label_free(store):
    state = ran(store)
    state = step(store, lambda loop: loop.learn(state, None))
    state = step(store, lambda loop: _commit(loop, state, apply=True))
    (correct,) = store.query("SELECT correct FROM problems WHERE run_id = ?", [state.run_id])[0].values()
    assert state.label_free and correct is None
    assert set(state.feedback) == set(state.results)


def test_a_mark_is_shared_by_answers_that_say_the_same(store):
    state = ran(store)
    state.results[1] = state.results[0].model_copy()
    state.results[2] = state.results[2].model_copy(update={"answer": "something else entirely"})
    assert marks_to_feedback(state, {0: True}) == {0: True, 1: True, 2: None}
    failed = state.results[2].model_copy(update={"ok": False})
    state.results[2] = failed
    assert marks_to_feedback(state, {0: False})[2] is False
