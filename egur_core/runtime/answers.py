r"""Answer extraction shared by voting, the runtime and the scorers: `\boxed{}` contents and "The answer is:" prefixes.

Voting needs one canonical "final answer" string per sample; the scorers of AIME (last boxed)
and BBEH (answer prefixes) each define half of that convention, so both are honoured here.
"""

from __future__ import annotations

import re

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")

# The BBEH prefixes (bbeh/evaluate.py), plus a few frequent case/format variants for voting only.
ANSWER_PREFIXES: tuple[str, ...] = (
    "The answer is:",
    "The final answer is ",
    "The final answer is: ",
    "The answer is ",
)
_LOOSE_PREFIX_RE = re.compile(
    r"(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*[:=]|the\s+(?:final\s+)?answer\s+is\b", re.IGNORECASE
)


def boxed_contents(text: str) -> list[str]:
    r"""All `\boxed{...}` / `\fbox{...}` contents in order, with nested braces balanced.

    MathArena takes the *last* one; an unbalanced trailing box (truncated output) is skipped."""
    text = as_text(text)
    out: list[str] = []
    for match in _BOX_RE.finditer(text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            out.append(text[match.end() : i - 1])
    return out


def last_boxed(text: str) -> str | None:
    r"""Content of the last complete `\boxed{}`/`\fbox{}`, inner boxes unwrapped; None if absent."""
    boxes = boxed_contents(text)
    if not boxes:
        return None
    content = boxes[-1]
    inner = boxed_contents(content)
    while inner and _BOX_RE.match(content.strip()):  # \boxed{\boxed{42}} -> 42
        content = inner[0]
        inner = boxed_contents(content)
    return content.strip()


def _after_prefix(text: str) -> str | None:
    """Text after the last answer prefix (official BBEH prefixes first, then loose variants)."""
    best = -1
    for prefix in ANSWER_PREFIXES:
        pos = text.rfind(prefix)
        if pos >= 0:
            best = max(best, pos + len(prefix))
    if best < 0:
        loose = list(_LOOSE_PREFIX_RE.finditer(text))
        if not loose:
            return None
        best = loose[-1].end()
    rest = text[best:].lstrip(" :\t")
    return rest.split("\n", 1)[0].strip()


def _clean(answer: str) -> str:
    """Drop wrapping markup that never changes the answer: **bold**, `code`, $math$, a final '.'."""
    answer = answer.strip()
    for _ in range(3):
        before = answer
        answer = answer.strip().strip("*").strip("`").strip()
        if len(answer) >= 2 and answer[0] == "$" and answer[-1] == "$":
            answer = answer.strip("$").strip()
        if answer.endswith(".") and not answer.endswith(".."):
            answer = answer[:-1].rstrip()
        if answer == before:
            break
    return answer


def extract_final_answer(text: str) -> str:
    r"""The final answer in a model output, for voting and display (not for official scoring).

    Order: the last `\boxed{}` (MathArena's rule), else the text after the last
    "The answer is:"-style prefix (BBEH's rule, first line only), else the last non-empty line.
    Returns "" for empty or non-string input; never raises."""
    text = as_text(text)
    if not text.strip():
        return ""
    boxed = last_boxed(text)
    if boxed is not None:
        return _clean(boxed)
    after = _after_prefix(text)
    if after:
        return _clean(after)
    lines = [line for line in text.splitlines() if line.strip()]
    return _clean(lines[-1]) if lines else ""


def as_text(value: object) -> str:
    """Scorers accept anything: None -> "", non-str -> str(); a garbage reply is simply wrong."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # a broken __str__ must not crash scoring
        return ""



def normalise_for_vote(answer: str) -> str:
    """Two answers that differ only in case, spacing or list separators count as one vote."""
    return re.sub(r"\s*,\s*", ",", answer.strip().lower()).removesuffix(".")
