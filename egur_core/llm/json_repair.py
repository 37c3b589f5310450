"""Get JSON out of what a model actually wrote.

Endpoints without JSON mode (and small models even with it) wrap JSON in prose or code fences,
leave trailing commas, write Python literals, or get cut off by ``max_tokens``. One bad reply must
not cost a whole Guide call, so :func:`extract_json` tries, in order: the text as is, fenced blocks,
then every ``{``/``[`` in the text, each repaired (commas, comments, literals, and truncation:
open strings, arrays and objects are closed, a dangling key is dropped).
"""

from __future__ import annotations

import json
import re
from typing import Any

from egur_core.strategy.text import clean_json

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:json5?|JSON|javascript|js)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_LITERALS = {"True": "true", "False": "false", "None": "null", "NaN": "null", "Infinity": "null"}
_MAX_STARTS = 50
# Repair is pure Python (~1M chars/s); bound the total work so a long garbage reply fails in <1 s.
_WORK_BUDGET_CHARS = 800_000


def extract_json(text: str) -> Any:
    """The first JSON value found in ``text``, repaired if needed, lone surrogates replaced; ValueError says why not."""
    return clean_json(_extract_json(text))


def _extract_json(text: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the reply is empty: no JSON to read")
    stripped = _THINK.sub("", text)
    if re.search(r"<think>", stripped, re.IGNORECASE):
        raise ValueError("the reply was cut off inside its <think> block, before any JSON")
    stripped = stripped.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    budget = [_WORK_BUDGET_CHARS]
    for candidate in _candidates(stripped):
        if budget[0] <= 0:
            break
        value = _parse_repaired(candidate, budget)
        if value is not _FAIL:
            return value
    if "{" not in stripped and "[" not in stripped:
        raise ValueError(f"the reply contains no JSON object or array (starts: {_preview(stripped)})")
    raise ValueError(f"could not repair the JSON in the reply (starts: {_preview(stripped)})")


_FAIL = object()


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat[:limit] + ("…" if len(flat) > limit else ""))


def _candidates(text: str) -> list[str]:
    """Fenced blocks first (the model's own framing), then text from each opening bracket."""
    found = [m.group(1).strip() for m in _FENCE.finditer(text) if m.group(1).strip()]
    starts = [i for i, ch in enumerate(text) if ch in "{["][:_MAX_STARTS]
    found += [text[i:] for i in starts]
    return found


def _parse_repaired(candidate: str, budget: list[int]) -> Any:
    """Parse ``candidate`` as is, repaired, or cut back to its last complete item; charge ``budget``."""
    segment, complete = _balanced_prefix(candidate)
    budget[0] -= len(segment)
    try:
        return json.loads(segment)
    except ValueError:
        pass
    for cut in [len(segment), *_cut_points(segment)]:  # cuts: truncated mid-value, drop the partial item
        if budget[0] <= 0:
            break
        budget[0] -= cut
        try:
            return json.loads(_repair(segment[:cut], complete and cut == len(segment)))
        except ValueError:
            continue
    return _FAIL


def _balanced_prefix(text: str) -> tuple[str, bool]:
    """``text`` up to the bracket that closes its first one; (all of it, False) if it never closes."""
    depth, in_str, esc = 0, False, False
    for i, ch in enumerate(text):
        if in_str:
            esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth <= 0:
                return text[: i + 1], True
    return text, False


def _cut_points(text: str) -> list[int]:
    """Positions of commas outside strings, latest first: cutting there drops a partial last item."""
    cuts, in_str, esc = [], False, False
    for i, ch in enumerate(text):
        if in_str:
            esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
        elif ch == '"':
            in_str = True
        elif ch == ",":
            cuts.append(i)
    return cuts[::-1][:20]


def _repair(text: str, complete: bool) -> str:
    """Fix what models commonly get wrong outside strings, then close whatever is still open."""
    out: list[str] = []
    stack: list[str] = []
    in_str, esc, i = False, False, 0
    while i < len(text):
        ch = text[i]
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            elif ch == "\n":
                ch = "\\n"  # raw newlines inside strings are invalid JSON
            out.append(ch)
            i += 1
            continue
        if ch == '"':
            in_str = True
        elif ch == "'":
            end = text.find("'", i + 1)
            if end > i and "\n" not in text[i:end]:  # a single-quoted string: re-quote it
                out.append(json.dumps(text[i + 1 : end]))
                i = end + 1
                continue
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            _strip_trailing_comma(out)
            if stack:
                stack.pop()
        elif ch.isalpha():
            word = re.match(r"\w+", text[i:]).group(0)
            out.append(_LITERALS.get(word, word))
            i += len(word)
            continue
        out.append(ch)
        i += 1
    if complete and not in_str and not stack:
        return "".join(out)
    if in_str:
        if esc:
            out.pop()
        out.append('"')
    _close(out, stack)
    return "".join(out)


def _strip_trailing_comma(out: list[str]) -> None:
    j = len(out) - 1
    while j >= 0 and out[j].isspace():
        j -= 1
    if j >= 0 and out[j] == ",":
        del out[j]


def _close(out: list[str], stack: list[str]) -> None:
    """Close a truncated document: drop a dangling comma or key, fill a missing value, close brackets."""
    tail = "".join(out).rstrip()
    if tail.endswith(","):
        tail = tail[:-1]
    tail = re.sub(r"(?<=[\d:\s\[])[-+.eE]+$", "", tail).rstrip()  # a number cut off mid-way
    if tail.endswith(":"):
        tail += " null"
    elif stack and stack[-1] == "}" and re.search(r'[{,]\s*"(?:[^"\\]|\\.)*"$', tail):
        tail = re.sub(r',?\s*"(?:[^"\\]|\\.)*"$', "", tail)  # a key with no value yet
    out[:] = [tail, *reversed(stack)]
