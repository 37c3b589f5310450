"""The simulated judge: compares the answer with the reference answer, as a careful grader would.

With no reference it falls back on what the simulator knows of the problem (a shipped one, or one
of a dataset loaded in this process); about a problem it does not know it says "incorrect" and why.
"""

from __future__ import annotations

import json

from egur_core.evals.datasets.judge import CONTEXT_HEADER
from egur_core.evals.datasets.scorers import contains_match, same_answer
from egur_core.reasoner.role_calls import parse_context
from egur_core.sim import oracle


def is_judge(messages: list[dict]) -> bool:
    return any(CONTEXT_HEADER in (m.get("content") or "") for m in messages)


def judge_reply(messages: list[dict]) -> str:
    context = parse_context(messages, CONTEXT_HEADER) or {}
    answer, final = str(context.get("answer") or ""), str(context.get("final_answer") or "")
    reference = context.get("reference")
    if not reference:
        known = oracle.identify(str(context.get("problem") or ""))
        reference = known.problem.answer if known.problem is not None else None
    if not reference:
        return json.dumps({"reasoning": "There is no reference answer and the problem is not one I can check.",
                           "verdict": "incorrect"})
    right = same_answer(final or answer, reference) or contains_match(final or answer, reference)
    why = (f"The final answer '{final}' states the same result as the reference '{reference}'." if right else
           f"The final answer '{final}' does not match the reference '{reference}'.")
    return json.dumps({"reasoning": why, "verdict": "correct" if right else "incorrect"})
