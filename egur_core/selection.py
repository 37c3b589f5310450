"""Choosing the answer that counts, before the label is seen, and label-free feedback.

The choice uses only what a deployed system would have: verifiers that need no gold answer
(a 3-SAT assignment can be checked against the formula), agreement between candidates, and the
Guide's own ordering (cached strategies first). Labels only ever reach the Consolidator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from .answers import extract_final_answer, normalise_for_vote
from .benchmarks.sat3 import parse_dimacs
from .benchmarks.sat3_answer import check_assignment, parse_sat_answer
from .trace import ExecutionResult

Verifier = Callable[[str, str], bool | None]
"""(problem text, answer) -> True (verified), False (refuted) or None (cannot tell)."""


def sat_verifier(problem_text: str, answer: str) -> bool | None:
    """A SAT claim is checked against the formula; an UNSAT claim cannot be checked cheaply."""
    parsed = parse_dimacs(problem_text)
    if parsed is None:
        return None
    num_vars, clauses = parsed
    verdict, literals = parse_sat_answer(answer)
    if verdict is None:
        return False
    if verdict == "UNSAT":
        return None
    return bool(literals) and check_assignment(clauses, literals, num_vars)


def verifier_for(benchmark: str) -> Verifier | None:
    return sat_verifier if benchmark.startswith("sat3") else None


def choose(problem_text: str, results: Sequence[ExecutionResult], verifier: Verifier | None) -> int | None:
    """Index of the execution whose answer counts; None when nothing produced an answer."""
    answered = [i for i, r in enumerate(results) if r.ok and (r.answer or "").strip()]
    if not answered:
        return None
    if verifier is not None:
        verdicts = {i: verifier(problem_text, results[i].answer or "") for i in answered}
        verified = [i for i in answered if verdicts[i] is True]
        if verified:
            return verified[0]
        answered = [i for i in answered if verdicts[i] is not False] or answered
    keys = {i: normalise_for_vote(extract_final_answer(results[i].answer or "")) for i in answered}
    counts = Counter(keys.values())
    top = max(counts.values())
    return next(i for i in answered if counts[keys[i]] == top)


def label_free_correct(problem_text: str, results: Sequence[ExecutionResult], chosen: int | None,
                       verifier: Verifier | None) -> list[bool | None]:
    """Feedback without gold answers: the verifier where it can tell, else agreement with the
    chosen answer (a weak signal, recorded as such by the caller)."""
    if chosen is None:
        return [None] * len(results)
    chosen_key = normalise_for_vote(extract_final_answer(results[chosen].answer or ""))
    feedback: list[bool | None] = []
    for result in results:
        if not result.ok:
            feedback.append(False)
            continue
        verdict = verifier(problem_text, result.answer or "") if verifier else None
        if verdict is None:
            verdict = normalise_for_vote(extract_final_answer(result.answer or "")) == chosen_key
        feedback.append(verdict)
    return feedback
