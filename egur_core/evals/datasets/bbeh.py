"""BIG-Bench Extra Hard (BBEH): any `bbeh_<task>/task.json` under data/benchmarks/bbeh/, and Mini.

BBEH data is CC-BY 4.0, (c) 2025 Google LLC (arXiv 2502.19187). Inputs already carry their
instructions, so `Problem.text` is the upstream input verbatim; scoring is the official
`evaluate_correctness` (see bbeh_eval.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from egur_core.evals.datasets.base import Problem, benchmarks_dir, seeded_sample
from egur_core.evals.datasets.bbeh_eval import evaluate_correctness

TASK_PREFIX = "bbeh_"

# Coarse family per task, so retrieval/strategy choice can group similar work. Tasks not listed
# fall back to "other".
TASK_FAMILIES: dict[str, str] = {
    "object_counting": "counting",
    "multistep_arithmetic": "arithmetic",
    "time_arithmetic": "arithmetic",
    "word_sorting": "sorting",
    "boolean_expressions": "logic",
    "web_of_lies": "logic",
    "zebra_puzzles": "logic",
    "boardgame_qa": "logic",
    "dyck_languages": "logic",
    "temporal_sequence": "logic",
    "causal_understanding": "logic",
    "spatial_reasoning": "logic",
    "shuffled_objects": "logic",
}


def bbeh_dir() -> Path:
    """Where BBEH task folders live (flattened: `bbeh/bbeh_<task>/task.json`, `bbeh/mini/data.json`)."""
    return benchmarks_dir() / "bbeh"


def available_tasks() -> list[str]:
    """Task names (without the `bbeh_` prefix) whose task.json is present, sorted."""
    root = bbeh_dir()
    if not root.is_dir():
        return []
    return sorted(
        p.name[len(TASK_PREFIX) :]
        for p in root.iterdir()
        if p.is_dir() and p.name.startswith(TASK_PREFIX) and (p / "task.json").is_file()
    )


def task_family(task: str) -> str:
    return TASK_FAMILIES.get(task, "other")


@lru_cache(maxsize=64)
def _read_examples(path: str) -> tuple[tuple[str, str, str | None], ...]:
    """(input, target, subtask) triples of a BBEH json file; cached because files reach ~2 MB."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return tuple((str(ex["input"]), str(ex["target"]), ex.get("subtask")) for ex in data.get("examples", []))


def task_problems(task: str) -> list[Problem]:
    """All problems of one task, in file order; ids are `bbeh:<task>-<index:04d>` (file index)."""
    path = bbeh_dir() / f"{TASK_PREFIX}{task}" / "task.json"
    problems = []
    for i, (text, target, subtask) in enumerate(_read_examples(str(path))):
        meta: dict = {"task": task, "index": i, "source": "bbeh"}
        if subtask is not None:
            meta["subtask"] = subtask
        problems.append(
            Problem(
                id=f"bbeh:{task}-{i:04d}",
                benchmark=f"bbeh:{task}",
                family=task_family(task),
                text=text,
                answer=target,
                meta=meta,
            )
        )
    return problems


def mini_problems() -> list[Problem]:
    """BBEH Mini (460 examples, no task field). Each input that matches a present full task
    becomes that task's problem (same id, so memory is shared); the rest stay `bbeh_mini`."""
    path = bbeh_dir() / "mini" / "data.json"
    if not path.is_file():
        return []
    by_text = {p.text: p for task in available_tasks() for p in task_problems(task)}
    problems = []
    for i, (text, target, _subtask) in enumerate(_read_examples(str(path))):
        known = by_text.get(text)
        if known is not None and known.answer.strip() == target.strip():
            problems.append(known.model_copy(update={"meta": {**known.meta, "mini_index": i}}))
            continue
        problems.append(
            Problem(
                id=f"bbeh_mini-{i:04d}",
                benchmark="bbeh_mini",
                family="other",
                text=text,
                answer=target,
                meta={"task": None, "mini_index": i, "source": "bbeh_mini"},
            )
        )
    return problems


def score_bbeh(prediction: str, problem: Problem) -> bool:
    """Official BBEH scoring (`evaluate_correctness`) against the problem's target."""
    return evaluate_correctness(prediction, problem.answer)


class BBEHTask:
    """One BBEH task, e.g. `bbeh:object_counting`."""

    verifier = None  # no label-free check of an answer

    def __init__(self, task: str) -> None:
        self.task = task
        self.name: str = f"bbeh:{task}"
        self.family: str = task_family(task)
        self.description: str = f"BBEH {task.replace('_', ' ')} (BIG-Bench Extra Hard, CC-BY 4.0)"

    def __repr__(self) -> str:
        return f"BBEHTask({self.task!r})"

    def load(self, n: int | None = None, seed: int = 0) -> list[Problem]:
        return seeded_sample(task_problems(self.task), n, seed, self.name)

    def score(self, prediction: str, problem: Problem) -> bool:
        return score_bbeh(prediction, problem)


@dataclass
class BBEHMini:
    """BBEH Mini: 20 examples per task across all 23 tasks, tasks recovered where possible."""

    verifier = None  # no label-free check of an answer

    name: str = "bbeh_mini"
    family: str = "other"
    description: str = "BBEH Mini (460 examples, 20 per task; CC-BY 4.0)"

    def load(self, n: int | None = None, seed: int = 0) -> list[Problem]:
        return seeded_sample(mini_problems(), n, seed, self.name)

    def score(self, prediction: str, problem: Problem) -> bool:
        return score_bbeh(prediction, problem)
