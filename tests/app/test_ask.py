"""Ask as the page and the CLI call it: typed or picked problems, graded by the picked dataset's own rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egur_core.app import ask
from egur_core.app.datasets import add_file
from egur_core.app.services import open_memory
from egur_core.evals.datasets.scorers import ScorerSpec
from egur_core.evals.datasets.stored import DatasetSpec
from egur_core.llm.config import simulated_settings

SETTINGS = simulated_settings()


@pytest.fixture
def memory(tmp_path: Path):
    memory = open_memory(tmp_path / "egur.duckdb")
    data = tmp_path / "sums.jsonl"
    data.write_text(json.dumps({"id": "s1", "problem": "What is 999 + 1? End with 'The answer is: N'.",
                                "answer": "1,000"}) + "\n")
    with memory.session() as store:
        add_file(store, data, DatasetSpec(name="sums", scorer=ScorerSpec(kind="number")))
    return memory


def test_a_typed_question_needs_text(memory):
    with pytest.raises(ValueError, match="type a problem"):
        ask.start(memory, SETTINGS, ask.AskRequest(text="   "))


def test_a_picked_problem_keeps_its_dataset_and_reveals_its_answer_only_after_the_run(memory):
    state = ask.start(memory, SETTINGS, ask.AskRequest(dataset="sums", problem_id="s1", k=2))
    assert state.task.benchmark == "sums" and state.task.id == "s1" and "1,000" not in state.model_dump_json()
    assert ask.reference_answer(memory, state) is None
    state = ask.run(memory, SETTINGS, state.run_id)
    assert ask.reference_answer(memory, state) == "1,000"


def test_a_right_answer_is_compared_by_the_picked_datasets_rule(memory):
    state = ask.run(memory, SETTINGS, ask.start(memory, SETTINGS, ask.AskRequest(dataset="sums", problem_id="s1",
                                                                                  k=2)).run_id)
    first = next(iter(state.results))
    state.results[first] = state.results[first].model_copy(update={"answer": "The answer is: 1000 exactly", "ok": True})
    assert ask.grade_against(memory, state, "1,000")[first] is True  # the number scorer reads through commas


def test_a_problem_from_a_shipped_benchmark_can_be_asked(memory):
    state = ask.start(memory, SETTINGS, ask.AskRequest(dataset="aime2025", problem_id="aime2025-I-1", k=1))
    state = ask.run(memory, SETTINGS, state.run_id)
    assert state.task.benchmark == "aime2025" and ask.reference_answer(memory, state)
    state = ask.tell(memory, SETTINGS, state.run_id, gold=ask.reference_answer(memory, state))
    state = ask.finish(memory, SETTINGS, state.run_id, apply=True)
    with memory.session() as store:
        assert store.get_run(state.run_id)["benchmark"] == "aime2025"
        assert store.problem_rows(state.run_id).iloc[0]["gold"] == ask.reference_answer(memory, state)


def test_an_unknown_problem_id_is_named(memory):
    with pytest.raises(KeyError, match="no problem 'zz' in sums"):
        ask.start(memory, SETTINGS, ask.AskRequest(dataset="sums", problem_id="zz"))
