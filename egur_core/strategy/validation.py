"""Validate a strategy and report *every* problem with its JSON path.

Two passes: pydantic checks shapes and ranges; then the program checks (:mod:`checks`) follow the
steps in order. When a step does not even parse, the steps that do are still checked.
Messages are written for the person editing the JSON, not for the type checker.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from egur_core.strategy.checks import NO_ANSWER, ProgramChecker, ValidationIssue
from egur_core.strategy.dataflow import step_writes
from egur_core.strategy.limits import MAX_JSON_CHARS, size_issues
from egur_core.strategy.model import PROBLEM_VAR, STEP_KINDS, Budget, Step, Strategy, walk_steps
from egur_core.strategy.templates import template_references

_STEP: TypeAdapter = TypeAdapter(Step)
_SOURCE_VARIANTS = ("str", "list[str]")  # how pydantic names the two forms of a ``from`` that takes a list


class StrategyInvalid(ValueError):
    def __init__(self, issues: list[ValidationIssue]):
        self.issues = issues
        super().__init__("invalid strategy:\n" + "\n".join(f"  {i}" for i in issues))


def parse_strategy(
    data: str | dict[str, Any] | Strategy,
    known_tools: Collection[str] | None = None,
    known_models: Collection[str] | None = None,
) -> Strategy:
    """Return the strategy or raise :class:`StrategyInvalid` listing every issue."""
    strategy, issues = validate_strategy(data, known_tools, known_models)
    if issues or strategy is None:
        raise StrategyInvalid(issues)
    return strategy


def validate_strategy(
    data: str | dict[str, Any] | Strategy,
    known_tools: Collection[str] | None = None,
    known_models: Collection[str] | None = None,
) -> tuple[Strategy | None, list[ValidationIssue]]:
    """``(strategy, [])`` when valid, else ``(strategy or None, issues)``.

    ``known_tools`` / ``known_models`` of ``None`` skip those catalogue checks.
    """
    if isinstance(data, Strategy):
        data = data.to_json_dict()
    if isinstance(data, str):
        if len(data) > MAX_JSON_CHARS:
            return None, [ValidationIssue(path="$", message=f"strategy JSON of {len(data):,} characters is over "
                                                             f"the limit of {MAX_JSON_CHARS:,}")]
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            return None, [ValidationIssue(path="$", message=f"not valid JSON: {exc.msg} at line {exc.lineno}")]
    if not isinstance(data, dict):
        return None, [ValidationIssue(path="$", message="a strategy must be a JSON object")]
    oversized = size_issues(data)  # before parsing: a million-step strategy costs a count, not minutes
    if oversized:
        return None, oversized
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        shape_issues = _issues_from_pydantic(exc.errors())
        return None, shape_issues + _salvaged_program_issues(data, known_tools, known_models, shape_issues)
    issues = list(ProgramChecker(known_tools, known_models).check(strategy))
    return strategy, issues


def _salvaged_program_issues(data: dict[str, Any], known_tools, known_models,
                             already: list[ValidationIssue]) -> list[ValidationIssue]:
    """Program checks over the steps that did parse, so one bad field does not hide every other problem.

    Variables an unparsable step would have written count as written (no false alarms downstream)."""
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        return []
    parsed: list[tuple[int, Step]] = []
    written_by_raw: set[str] = set()
    written_so_far = {PROBLEM_VAR}  # in program order, by parsed and unparsable steps alike
    found: list[ValidationIssue] = []
    for index, raw in enumerate(raw_steps):
        try:
            step = _STEP.validate_python(raw)
            parsed.append((index, step))
            written_so_far |= {name for s in walk_steps([step]) for name in step_writes(s)}
            continue
        except ValidationError:
            pass
        if isinstance(raw, dict):
            found += _raw_template_issues(raw, f"$.steps[{index}]", written_so_far)
            names = {str(raw[k]) for k in ("out", "flag", "feedback") if isinstance(raw.get(k), str)}
            written_by_raw |= names
            written_so_far |= names
    checker = ProgramChecker(known_tools, known_models)
    seconds = (data.get("budget") or {}).get("max_seconds") if isinstance(data.get("budget"), dict) else None
    checker.max_seconds = seconds if isinstance(seconds, int | float) and seconds > 0 else Budget().max_seconds
    found += list(checker.check_steps(parsed, "$.steps", {PROBLEM_VAR} | written_by_raw, final=False))
    if not any(isinstance(raw, dict) and raw.get("op") == "answer" for raw in raw_steps):
        found.append(ValidationIssue(path="$.steps", message=NO_ANSWER))
    seen = {(i.path, i.message) for i in already}
    return [i for i in found if (i.path, i.message) not in seen]


def _raw_template_issues(raw: dict[str, Any], here: str, defined: set[str]) -> list[ValidationIssue]:
    """Read-before-write checks on a step that failed to parse, straight from its JSON."""
    issues = []
    for field in ("system", "prompt", "input"):
        template = raw.get(field)
        if isinstance(template, str):
            for name, optional in template_references(template):
                if not optional and name not in defined:
                    issues.append(ValidationIssue(path=f"{here}.{field}", message=(
                        f"reads '{{{name}}}' before any step writes it (use '{{{name}?}}' if it may be unset)")))
    return issues


def _issues_from_pydantic(errors: list[Any]) -> list[ValidationIssue]:
    """One issue per problem: a ``from`` that may be a name or a list fails both ways, but only one is meant."""
    issues = []
    for err in errors:
        variant = next((p for p in err["loc"] if p in _SOURCE_VARIANTS), None)
        as_list = isinstance(err["input"], list)
        if variant == "str" and as_list:
            continue  # it is a list: the list's own errors say what is wrong
        if variant == "list[str]" and err["loc"][-1] == variant and not as_list:
            continue  # not a list at all: the name variant's error says it
        issue = _issue_from_pydantic(err)
        if variant == "str":
            issue.message = f"'{issue.path.rsplit('.', 1)[-1]}' must be a variable name or a list of variable names"
        issues.append(issue)
    return issues


def _issue_from_pydantic(err: Any) -> ValidationIssue:
    loc = [part for part in err["loc"] if not _is_union_tag(part)]
    path = _format_path(loc)
    field = loc[-1] if loc else ""
    kind, msg = err["type"], err["msg"]
    if kind == "missing" and field == "max_iters":
        msg = "loop has no iteration limit: set max_iters (1-20)"
    elif kind == "missing":
        msg = f"required field '{field}' is missing"
    elif kind == "union_tag_not_found":
        msg = f"step has no 'op'; use one of: {', '.join(STEP_KINDS)}"
    elif kind == "union_tag_invalid":
        msg = f"unknown step kind {err['input'].get('op')!r}; use one of: {', '.join(STEP_KINDS)}"
    elif kind == "extra_forbidden":
        msg = f"unknown field '{field}'"
    elif kind in {"less_than_equal", "greater_than_equal", "greater_than", "less_than"}:
        msg = f"{field} = {err['input']!r} is out of range ({msg.lower()})"
    elif kind == "string_pattern_mismatch" and field == "path":
        msg = (f"{err['input']!r} is not a field path: names and [index] joined by dots, "
               "e.g. 'answer' or 'result.items[0].name'")
    elif kind == "string_pattern_mismatch" and field == "id":
        msg = f"step id {err['input']!r} must start with a letter or '_' and use only letters, digits, '_' and '-'"
    return ValidationIssue(path=path, message=msg)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in STEP_KINDS or part in _SOURCE_VARIANTS or part.startswith("function-"))


def _format_path(loc: Iterable[Any]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


__all__ = ["ValidationIssue", "StrategyInvalid", "parse_strategy", "validate_strategy"]
