"""Scoring and feedback, after the answer that counts has been chosen: the only code that grades.

Two things come out of a finished problem: whether the chosen answer is right (the headline
accuracy, always by the dataset's official rule when it has labels) and per-candidate feedback for
the Consolidator and the library's statistics, which in label-free mode must come from a verifier
or from agreement, never from the label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from egur_core.reasoner.selection import vote_key
from egur_core.reasoner.task import Grader, GradingUsage, Task, Verifier
from egur_core.runtime.trace import ExecutionResult


@dataclass(frozen=True)
class Judgement:
    """What grading one problem produced."""

    correct: bool | None
    """The chosen answer against the label; None when the workload has no labels."""
    gold: str | None
    """The gold answer, revealed for the record only now."""
    feedback: list[bool | None]
    """Per candidate, what the Consolidator and the library statistics are told."""
    grading: GradingUsage = field(default_factory=GradingUsage)
    """What the grader's own model calls cost (an LLM judge): recorded as the ``judge`` role, apart."""


def judge(task: Task, results: Sequence[ExecutionResult], chosen: int | None, *, grader: Grader | None,
          verifier: Verifier | None, label_free: bool) -> Judgement:
    """Grade the chosen answer and derive each candidate's feedback."""
    answer = results[chosen].answer if chosen is not None else None
    correct = (grader.grade(task, answer) if answer is not None else False) if grader is not None else None
    if label_free or grader is None:
        feedback = label_free_feedback(task.text, results, chosen, verifier)
    else:
        feedback = [grader.grade(task, r.answer or "") if r.ok else False for r in results]
    return Judgement(correct=correct, gold=grader.gold(task) if grader is not None else None, feedback=feedback,
                     grading=grader.usage(task) if grader is not None else GradingUsage())


def label_free_feedback(problem_text: str, results: Sequence[ExecutionResult], chosen: int | None,
                        verifier: Verifier | None) -> list[bool | None]:
    """Feedback without gold answers: the verifier where it can tell, else agreement with the
    chosen answer (a weak signal)."""
    if chosen is None:
        return [None] * len(results)
    chosen_key = vote_key(results[chosen].answer)
    feedback: list[bool | None] = []
    for result in results:
        if not result.ok:
            feedback.append(False)
            continue
        verdict = verifier(problem_text, result.answer or "") if verifier else None
        if verdict is None:
            verdict = vote_key(result.answer) == chosen_key
        feedback.append(verdict)
    return feedback
