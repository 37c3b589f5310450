"""What a method is given to solve: tasks without labels, and the grader that alone holds them.

Label isolation is structural: a :class:`Task` has no field for a gold answer, so the Guide, the
runtime and answer selection cannot see one by mistake. The dataset that made the tasks hands the
loop a :class:`Grader` (which knows the gold answers) and, where it has one, a :class:`Verifier`
(which needs none). Only ``reasoner.feedback`` calls the grader, once per problem, after the
answer that counts has been chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict

Verifier = Callable[[str, str], bool | None]
"""(problem text, answer) -> True (verified), False (refuted) or None (cannot tell); never sees a label."""


class Task(BaseModel):
    """One problem as a method sees it: an id, the dataset it came from and its text; no gold answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    benchmark: str
    text: str


class Grader(Protocol):
    """Holds the gold answers of a workload and scores an answer by the dataset's official rule."""

    def grade(self, task: Task, answer: str) -> bool:
        """Official correctness of ``answer``; False (never an exception) for garbage."""
        ...

    def gold(self, task: Task) -> str | None:
        """The gold answer, for the record once the problem is finished; None when the task has none."""
        ...

    def usage(self, task: Task) -> GradingUsage:
        """What grading this task has cost so far: the calls of an LLM judge (role ``judge``), recorded apart
        from the method's own cost. Optional: a grader by rule, which calls no model, need not define it."""
        ...


class GradingUsage(BaseModel):
    """The model calls a grader made for one task (an LLM judge); zero for a rule."""

    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0


def grading_usage(grader: Grader | None, task: Task) -> GradingUsage:
    """What ``grader`` spent on ``task`` (zero for no grader or one that calls no model)."""
    usage = getattr(grader, "usage", None)
    return usage(task) if usage is not None else GradingUsage()


@dataclass(frozen=True)
class Workload:
    """A stream of tasks with what a dataset brings to judge them.

    ``grader`` is None for a dataset without answers (label-free only); ``verifier`` is None when the
    dataset has no label-free check of an answer."""

    benchmark: str
    tasks: Sequence[Task]
    grader: Grader | None = None
    verifier: Verifier | None = None

    def __len__(self) -> int:
        return len(self.tasks)
