"""Choosing the answer that counts, with nothing but the executions and a label-free verifier."""

from __future__ import annotations

from egur_core.reasoner.selection import choose
from egur_core.runtime.trace import ExecutionResult


def results(*answers: str | None) -> list[ExecutionResult]:
    return [ExecutionResult(strategy_hash=f"h{i}", ok=a is not None, answer=a) for i, a in enumerate(answers)]


def test_nothing_answered_chooses_nothing():
    assert choose("p", results(None, None), None) is None
    assert choose("p", results("  ", None), None) is None


def test_the_majority_answer_wins():
    assert choose("p", results("The answer is: 3", "The answer is: 4", "The answer is: 4"), None) == 1


def test_answers_that_differ_only_in_form_vote_together():
    assert choose("p", results("5", "The answer is: 7.", "\\boxed{7}"), None) == 1


def test_a_tie_goes_to_the_earlier_candidate():
    assert choose("p", results("a", "b"), None) == 0


def test_a_verified_answer_beats_any_majority():
    verifier = lambda text, answer: answer == "right"  # noqa: E731
    assert choose("p", results("wrong", "wrong", "right"), verifier) == 2


def test_refuted_answers_do_not_vote():
    verdicts = {"x": False, "y": None}
    assert choose("p", results("x", "x", "y"), lambda text, answer: verdicts[answer]) == 2


def test_when_every_answer_is_refuted_the_majority_still_answers():
    assert choose("p", results("x", "y", "y"), lambda text, answer: False) == 1
