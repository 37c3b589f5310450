"""Reading the final answer out of free model text, the same way everywhere.

Voting, the runtime's answer step and the scorers all need "what did this output conclude?".
Order follows BBEH's official extractor and MathArena's: an explicit ``The answer is`` marker
wins, then the last ``\\boxed{}``, then the last non-empty line.
"""

from __future__ import annotations

import re

ANSWER_PREFIXES = ("The answer is:", "The final answer is ", "The final answer is: ", "The answer is ")
_FINAL_MARKER = re.compile(r"^\s*FINAL:\s*", re.IGNORECASE)


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` or ``\\fbox{...}``, nested braces included."""
    starts = [m.end() for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text)]
    if not starts:
        return None
    depth, start = 1, starts[-1]
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i].strip()
    return None


def extract_final_answer(text: str) -> str:
    if not text:
        return ""
    for prefix in ANSWER_PREFIXES:
        if prefix.lower() in text.lower():
            at = text.lower().rfind(prefix.lower())
            tail = text[at + len(prefix) :].strip().splitlines()
            if tail:
                return _clean(tail[0])
    boxed = last_boxed(text)
    if boxed is not None:
        return _clean(boxed)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return _clean(_FINAL_MARKER.sub("", lines[-1])) if lines else ""


def _clean(answer: str) -> str:
    answer = answer.strip().strip("*").strip()
    answer = answer.removesuffix(".")
    if answer.startswith("$") and answer.endswith("$") and len(answer) > 1:
        answer = answer.strip("$").strip()
    boxed = last_boxed(answer)
    return boxed if boxed is not None else answer


def normalise_for_vote(answer: str) -> str:
    """Two answers that differ only in case, spacing or list separators count as one vote."""
    return re.sub(r"\s*,\s*", ",", answer.strip().lower()).removesuffix(".")
