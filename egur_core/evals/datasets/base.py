"""Shared types for benchmarks: the `Problem` record, the `Benchmark` protocol, data location.

Every benchmark hands out `Problem`s and scores predictions with its *official* rule, so the
orchestrator never needs to know which benchmark it is running.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from egur_core.reasoner.task import Task, Verifier
from egur_core.runtime.answers import as_text  # noqa: F401  (scorers import it from here)
from egur_core.strategy.shipped import DATA_DIR_ENV, data_dir  # noqa: F401  (datasets read their files there)


class Problem(BaseModel):
    """One benchmark item, exactly as given to the model.

    `text` is the full prompt (answer-format instructions included), so a strategy can pass it
    through unchanged; `answer` is the gold answer as a string; `meta` carries benchmark-specific
    structure (e.g. the clauses of a 3-SAT instance) that tools and the simulated model may use.
    """

    id: str
    benchmark: str
    family: str
    text: str
    answer: str
    meta: dict[str, Any] = {}


@runtime_checkable
class Benchmark(Protocol):
    """What the loop needs from a benchmark: deterministic problems and an official scorer."""

    name: str
    family: str
    description: str

    def load(self, n: int | None = None, seed: int = 0) -> list[Problem]:
        """Return `n` problems (all when None), in a seeded, deterministic order."""
        ...

    def score(self, prediction: str, problem: Problem) -> bool:
        """Official correctness of `prediction`; must return False (never raise) on garbage."""
        ...

    verifier: Verifier | None
    """A label-free check of an answer against the problem text, where the benchmark has one."""


def as_task(problem: Problem) -> Task:
    """What a method sees of a problem: everything but the gold answer."""
    return Task(id=problem.id, benchmark=problem.benchmark, text=problem.text)


class LabelGrader:
    """Grades answers to a list of problems by each problem's official rule; the only holder of their labels."""

    def __init__(self, problems: list[Problem], score: Callable[[str, Problem], bool]):
        self._problems = {p.id: p for p in problems}
        self._score = score

    def grade(self, task: Task, answer: str) -> bool:
        problem = self._problems.get(task.id)
        return problem is not None and self._score(answer, problem)

    def gold(self, task: Task) -> str | None:
        problem = self._problems.get(task.id)
        return problem.answer if problem is not None else None


def benchmarks_dir() -> Path:
    """`data/benchmarks/`, where the datasets live."""
    return data_dir() / "benchmarks"


def seeded_sample(items: list[Problem], n: int | None, seed: int, salt: str = "") -> list[Problem]:
    """Shuffle with `random.Random(f"{salt}|{seed}")` and keep the first `n` (all when None).

    The salt (the benchmark name) gives each task its own order for the same seed.
    Shuffling even when n is None keeps `load(k, s) == load(None, s)[:k]`, so a longer run with
    the same seed sees the same problems first (learning curves stay comparable)."""
    order = list(items)
    random.Random(f"{salt}|{seed}").shuffle(order)
    if n is None:
        return order
    if n < 0:
        raise ValueError(f"n must be >= 0 or None, got {n}")
    return order[:n]
