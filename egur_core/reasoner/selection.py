"""Choosing the answer that counts, before any label exists for the code that chooses.

The choice uses only what a deployed system would have: the dataset's verifier where it brings one
(a 3-SAT assignment can be checked against the formula), agreement between candidates, and the
Guide's own ordering (cached strategies first). Nothing here can reach a gold answer: it receives
the problem text, the executions and a verifier, never a grader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from egur_core.reasoner.task import Verifier
from egur_core.runtime.answers import extract_final_answer, normalise_for_vote
from egur_core.runtime.trace import ExecutionResult


def vote_key(answer: str | None) -> str:
    """What two answers must share to count as the same vote."""
    return normalise_for_vote(extract_final_answer(answer or ""))


def choose(problem_text: str, results: Sequence[ExecutionResult], verifier: Verifier | None) -> int | None:
    """Index of the execution whose answer counts; None when nothing produced an answer.

    Order: the first verified answer; else a majority vote among the answers the verifier did not
    refute (all answers when it refuted every one); ties go to the earlier candidate."""
    answered = [i for i, r in enumerate(results) if r.ok and (r.answer or "").strip()]
    if not answered:
        return None
    if verifier is not None:
        verdicts = {i: verifier(problem_text, results[i].answer or "") for i in answered}
        verified = [i for i in answered if verdicts[i] is True]
        if verified:
            return verified[0]
        answered = [i for i in answered if verdicts[i] is not False] or answered
    keys = {i: vote_key(results[i].answer) for i in answered}
    counts = Counter(keys.values())
    top = max(counts.values())
    return next(i for i in answered if counts[keys[i]] == top)
