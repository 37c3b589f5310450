"""A person's dataset kept in the memory file: every format round-trips, in a seeded order, graded by its scorer."""

from __future__ import annotations

import hashlib

import pytest

from egur_core.evals.datasets import catalog, stored
from egur_core.evals.datasets.scorers import ScorerSpec
from egur_core.evals.datasets.stored import DatasetSpec
from egur_core.reasoner.method import OpenStore
from tests.evals.datasets.conftest import ROWS


def add(store, path, name="trivia", **spec):
    return stored.add_dataset(store, path, DatasetSpec(name=name, **spec), shipped=catalog.is_shipped(name))


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_a_dataset_round_trips_in_every_format(store, dataset_file, suffix):
    path = dataset_file(name=f"data.{suffix}")
    added = add(store, path)
    problems = sorted(stored.load_problems(store, added), key=lambda p: p.id)
    assert added.format == suffix and added.rows == 4 and added.answered == 4
    assert added.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(p.id, p.text, p.answer) for p in problems] == [(r["id"], r["question"], r["answer"]) for r in ROWS]
    assert problems[0].meta["topic"] == "geography" and added.columns.meta == ["topic"]


def test_numbers_in_a_csv_stay_as_written(store, tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("problem,answer\nHow much?,007\nAnd this?,1.50\n")
    problems = stored.find_problems(store, add(store, path))
    assert [p.answer for p in problems] == ["007", "1.50"]
    assert [p.id for p in problems] == ["1", "2"]  # no id column: numbered rows


def test_columns_can_be_named(store, dataset_file):
    rows = [{"prompt": r["question"], "gold": r["answer"], "key": r["id"]} for r in ROWS]
    added = add(store, dataset_file(rows), problem_col="prompt", answer_col="gold", id_col="key")
    assert stored.find_problems(store, added, "spider")[0].id == "q2"


def test_problems_come_in_a_seeded_order_whose_prefixes_agree(store, dataset_file):
    added = add(store, dataset_file())
    everything = [p.id for p in stored.load_problems(store, added, None, seed=3)]
    assert [p.id for p in stored.load_problems(store, added, 2, seed=3)] == everything[:2]
    assert sorted(everything) == ["q1", "q2", "q3", "q4"]
    orders = {tuple(p.id for p in stored.load_problems(store, added, None, seed=s)) for s in range(6)}
    assert len(orders) > 1  # another seed, another order


def test_stored_datasets_are_listed_after_the_shipped_ones(store, dataset_file):
    add(store, dataset_file())
    names = catalog.dataset_names(store)
    assert names[-1] == "trivia" and names[0] == "sat3"
    assert catalog.catalog(store)[-1].label == "trivia (yours: 4 rows · exact)"


def test_a_workload_grades_by_the_datasets_scorer_and_hides_the_answers(store, dataset_file):
    rows = [{**r, "answer": "1,000" if r["id"] == "q3" else r["answer"]} for r in ROWS]
    add(store, dataset_file(rows), scorer=ScorerSpec(kind="number"))
    work = catalog.workload("trivia", None, 0, memory=OpenStore(store))
    task = next(t for t in work.tasks if t.id == "q3")
    assert "answer" not in task.model_dump() and work.verifier is None
    assert work.grader.grade(task, "The answer is: 1000 units") and work.grader.gold(task) == "1,000"


def test_a_dataset_without_answers_runs_label_free(store, dataset_file):
    added = add(store, dataset_file([{"problem": r["question"]} for r in ROWS]))
    work = catalog.workload("trivia", 2, 0, memory=OpenStore(store))
    assert added.label_free and work.grader is None and len(work) == 2
    assert catalog.dataset_record("trivia", OpenStore(store))["dataset"]["answers"] is False


def test_a_shipped_name_is_refused_and_an_existing_one_needs_replace(store, dataset_file):
    with pytest.raises(ValueError, match="shipped benchmark"):
        add(store, dataset_file(), name="AIME2025")
    add(store, dataset_file())
    with pytest.raises(ValueError, match="already exists"):
        add(store, dataset_file())
    replaced = add(store, dataset_file(ROWS[:2]), replace=True)
    assert replaced.rows == 2 and stored.count_rows(store, "trivia") == 2


def test_removing_a_dataset_deletes_its_rows(store, dataset_file):
    add(store, dataset_file())
    stored.remove_dataset(store, "trivia")
    assert catalog.dataset_names(store)[-1] != "trivia" and stored.count_rows(store, "trivia") == 0
    with pytest.raises(KeyError):
        stored.remove_dataset(store, "trivia")


def test_an_unknown_benchmark_lists_yours_too(store, dataset_file):
    add(store, dataset_file())
    with pytest.raises(ValueError, match="yours: trivia"):
        catalog.workload("nope", 1, 0, memory=OpenStore(store))
