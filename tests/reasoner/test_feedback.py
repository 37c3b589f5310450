"""Feedback after the choice: every verdict says where it came from; a strategy agreeing with itself is no signal."""

from __future__ import annotations

from egur_core.reasoner.feedback import Feedback, judge, label_free_feedback
from egur_core.reasoner.task import Task
from egur_core.runtime.trace import ExecutionResult

TASK = Task(id="t1", benchmark="b", text="2+2?")


class Gold:
    def grade(self, task: Task, answer: str) -> bool:
        return answer.strip().endswith("4")

    def gold(self, task: Task) -> str:
        return "4"


def results(*answers: str | None) -> list[ExecutionResult]:
    return [ExecutionResult(strategy_hash=f"h{i}", ok=a is not None, answer=a) for i, a in enumerate(answers)]


def test_label_mode_grades_every_candidate_and_says_so():
    judged = judge(TASK, results("4", "5", None), 0, grader=Gold(), verifier=None, label_free=False)
    assert judged.correct is True and judged.gold == "4"
    assert judged.feedback == [Feedback(True, "label"), Feedback(False, "label"), Feedback(False, "failed")]


def test_label_free_mode_still_reports_accuracy_but_never_feeds_back_the_label():
    judged = judge(TASK, results("5", "5"), 0, grader=Gold(), verifier=None, label_free=True)
    assert judged.correct is False  # the headline number is graded
    assert judged.feedback == [Feedback(True, "agreement")] * 2  # what learning sees is agreement, not the label


def test_a_single_candidate_agreeing_with_itself_is_no_signal():
    assert label_free_feedback("p", results("7"), None) == [Feedback(None, "none")]


def test_agreement_needs_two_independent_candidates():
    assert label_free_feedback("p", results("7", "7", "8"), None) == [
        Feedback(True, "agreement"), Feedback(True, "agreement"), Feedback(False, "agreement")]


def test_candidates_that_all_disagree_tell_nothing():
    assert label_free_feedback("p", results("1", "2", "3"), None) == [Feedback(None, "none")] * 3


def test_a_verifier_speaks_before_agreement():
    verifier = lambda text, answer: {"a": True, "b": False}.get(answer)  # noqa: E731
    assert label_free_feedback("p", results("a", "b", "c", "c"), verifier) == [
        Feedback(True, "verifier"), Feedback(False, "verifier"), Feedback(True, "agreement"),
        Feedback(True, "agreement")]


def test_a_workload_without_labels_has_no_accuracy():
    judged = judge(TASK, results("4"), 0, grader=None, verifier=None, label_free=False)
    assert judged.correct is None and judged.gold is None and judged.feedback == [Feedback(None, "none")]
