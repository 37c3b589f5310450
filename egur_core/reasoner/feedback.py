"""Scoring and feedback, after the answer that counts has been chosen: the only code that grades.

Two things come out of a finished problem. Whether the chosen answer is right: the headline
accuracy, always by the dataset's official rule when it has labels. And per candidate, the feedback
the Consolidator and the library's statistics get, with where it came from:

* ``label``: the official scorer against the gold answer (label mode);
* ``verifier``: a check that needs no label (a 3-SAT assignment against its formula);
* ``agreement``: label-free, between at least two independent candidates: a candidate that agrees
  with another is counted right, one that disagrees with a pair that agrees is counted wrong;
* ``failed``: the execution produced no answer, so it cannot be right;
* ``none``: no signal at all (a candidate alone, an exploited strategy alone, or no two agree).
  A strategy agreeing with itself is not evidence, so ``none`` never updates library statistics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from egur_core.reasoner.selection import vote_key
from egur_core.reasoner.task import Grader, Task, Verifier
from egur_core.runtime.trace import ExecutionResult


@dataclass(frozen=True)
class Feedback:
    """What one candidate is told: right, wrong or unknown (None), and the source of that verdict."""

    correct: bool | None
    source: str


@dataclass(frozen=True)
class Judgement:
    """What grading one problem produced."""

    correct: bool | None
    """The chosen answer against the label; None when the workload has no labels."""
    gold: str | None
    """The gold answer, revealed for the record only now."""
    feedback: list[Feedback]
    """Per candidate, what the Consolidator and the library statistics are told."""


def judge(task: Task, results: Sequence[ExecutionResult], chosen: int | None, *, grader: Grader | None,
          verifier: Verifier | None, label_free: bool) -> Judgement:
    """Grade the chosen answer and derive each candidate's feedback."""
    answer = results[chosen].answer if chosen is not None else None
    correct = (grader.grade(task, answer) if answer is not None else False) if grader is not None else None
    if label_free or grader is None:
        feedback = label_free_feedback(task.text, results, verifier)
    else:
        feedback = [Feedback(grader.grade(task, r.answer or ""), "label") if _answered(r) else Feedback(False, "failed")
                    for r in results]
    return Judgement(correct=correct, gold=grader.gold(task) if grader is not None else None, feedback=feedback)


def label_free_feedback(problem_text: str, results: Sequence[ExecutionResult],
                        verifier: Verifier | None) -> list[Feedback]:
    """Feedback without gold answers: the verifier where it can tell, else agreement between candidates."""
    keys = [vote_key(r.answer) if _answered(r) else None for r in results]
    counts = Counter(k for k in keys if k is not None)
    someone_agrees = any(n >= 2 for n in counts.values())
    feedback = []
    for result, key in zip(results, keys):
        if key is None:
            feedback.append(Feedback(False, "failed"))
            continue
        verdict = verifier(problem_text, result.answer or "") if verifier is not None else None
        if verdict is not None:
            feedback.append(Feedback(verdict, "verifier"))
        elif counts[key] >= 2:
            feedback.append(Feedback(True, "agreement"))
        elif someone_agrees:
            feedback.append(Feedback(False, "agreement"))
        else:
            feedback.append(Feedback(None, "none"))
    return feedback


def _answered(result: ExecutionResult) -> bool:
    return result.ok and bool((result.answer or "").strip())
