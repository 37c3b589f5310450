r"""Reading a 3-SAT answer out of free-form model output, and checking the assignment.

Models phrase the answer in many ways (`SAT: 1 -2 3`, `\boxed{SAT: 1 -2 3}`, `The answer is:
UNSAT`, `satisfiable with x1=T, x2=F`, DIMACS `v 1 -2 0`). The verdict is the *last* SAT/UNSAT
word of the most specific region (last box, then text after the last answer prefix, then all);
for SAT, the literal list right after it is the claimed assignment, which is then verified.
"""

from __future__ import annotations

import re

from egur_core.runtime.answers import last_boxed

_VERDICT_RE = re.compile(
    r"\b(?:(?P<neg>not\s+satisfiable)|(?P<unsat>unsat(?:isfiable)?)|(?P<sat>sat(?:isfiable)?))\b",
    re.IGNORECASE,
)
_PREFIX_RE = re.compile(r"(?:final\s+)?answer\s*(?:is)?\s*[:=]|answer\s+is\b", re.IGNORECASE)
# Tokens after the verdict: `x1=true` pairs, literals (`-3`, `~x3`, `¬x3`, `x_3`), or words.
_TOKEN_RE = re.compile(
    r"(?P<pair>\bx_?(?P<pvar>\d+)\s*(?:=|:=|->|→|:)\s*(?P<pval>true|false|t|f|1|0)\b)"
    r"|(?P<lit>(?P<sign>[-~¬!−])?x?_?(?P<var>\d+))"
    r"|(?P<word>[A-Za-z]{2,})",
    re.IGNORECASE,
)
MAX_WORDS_BEFORE_LITERALS = 8


def _after_last_prefix(text: str) -> str | None:
    matches = list(_PREFIX_RE.finditer(text))
    return text[matches[-1].end() :] if matches else None


def _verdict_of(match: re.Match[str]) -> str:
    return "SAT" if match.group("sat") else "UNSAT"


def _literals_after(text: str) -> list[int]:
    """The literal list that opens `text` (a few filler words may precede it, e.g. "with the
    assignment"); it ends at the first word or blank line after the first literal."""
    literals: list[int] = []
    words = 0
    last_end = 0
    for tok in _TOKEN_RE.finditer(text):
        if literals and "\n\n" in text[last_end : tok.start()]:
            break
        last_end = tok.end()
        if tok.group("word"):
            if literals or tok.group("word").lower() in {"sat", "unsat"}:
                break
            words += 1
            if words > MAX_WORDS_BEFORE_LITERALS:
                break
            continue
        if tok.group("pair"):
            var = int(tok.group("pvar")) if len(tok.group("pvar")) <= 9 else 10**9
            literals.append(var if tok.group("pval").lower() in {"true", "t", "1"} else -var)
            continue
        digits = tok.group("var")
        var = int(digits) if len(digits) <= 9 else 10**9  # absurd ids fail the range check later
        if var != 0:  # DIMACS terminator
            literals.append(-var if tok.group("sign") else var)
    return literals


def parse_sat_answer(text: str) -> tuple[str | None, list[int]]:
    """(verdict, literals): verdict is "SAT", "UNSAT" or None (no verdict found)."""
    regions = [r for r in (last_boxed(text), _after_last_prefix(text), text) if r]
    for region in regions:
        matches = list(_VERDICT_RE.finditer(region))
        if not matches:
            continue
        verdict = _verdict_of(matches[-1])
        if verdict == "UNSAT":
            return verdict, []
        literals = _literals_after(region[matches[-1].end() :])
        if not literals:  # e.g. "SAT: 1 -2 3 ...  \boxed{SAT}": use the last SAT with a list
            for match in reversed(list(_VERDICT_RE.finditer(text))):
                if _verdict_of(match) == "SAT":
                    literals = _literals_after(text[match.end() :])
                    if literals:
                        break
        return verdict, literals
    return None, []


def check_assignment(clauses: list[list[int]], literals: list[int], num_vars: int) -> bool:
    """True iff the literals are consistent, name variables in 1..num_vars, and make at least one
    literal of every clause true. Unassigned variables count as not satisfying a clause."""
    values: dict[int, bool] = {}
    for lit in literals:
        var = abs(lit)
        if var == 0 or var > num_vars:
            return False
        if values.setdefault(var, lit > 0) != (lit > 0):
            return False
    return all(any(values.get(abs(lit)) == (lit > 0) for lit in clause) for clause in clauses)
