"""How big a strategy may be, checked on the raw JSON before anything is parsed.

A million-step strategy must cost a count, not minutes of parsing and gigabytes: the Guide, an
import or a person may send one. Each refusal names the limit it hit.
"""

from __future__ import annotations

from typing import Any

from egur_core.strategy.checks import ValidationIssue

MAX_STEPS = 100  # steps in all, loop bodies included
MAX_NESTING = 4  # loops inside loops
MAX_TEMPLATE_CHARS = 20_000  # one system prompt, prompt or tool input
MAX_JSON_CHARS = 1_000_000
_TEMPLATE_FIELDS = ("system", "prompt", "input")


def size_issues(data: dict[str, Any]) -> list[ValidationIssue]:
    """Steps, nesting depth and template lengths over their limits, each naming the limit; stops early."""
    issues: list[ValidationIssue] = []
    count = 0
    pending: list[tuple[Any, str, int]] = [(data.get("steps"), "$.steps", 1)]
    while pending and len(issues) < 5:
        steps, path, depth = pending.pop()
        if not isinstance(steps, list):
            continue
        count += len(steps)
        if count > MAX_STEPS:
            return [ValidationIssue(path="$.steps", message=f"more than {MAX_STEPS} steps in all (loop bodies "
                                                           f"included); the limit is {MAX_STEPS}")]
        if depth > MAX_NESTING + 1:
            issues.append(ValidationIssue(path=path, message=f"loops nested more than {MAX_NESTING} deep; the "
                                                             f"limit is {MAX_NESTING}"))
            continue
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            for field in _TEMPLATE_FIELDS:
                text = step.get(field)
                if isinstance(text, str) and len(text) > MAX_TEMPLATE_CHARS:
                    issues.append(ValidationIssue(path=f"{path}[{index}].{field}", message=(
                        f"{len(text):,} characters; the limit is {MAX_TEMPLATE_CHARS:,}")))
            pending.append((step.get("body"), f"{path}[{index}].body", depth + 1))
    return issues
