"""Validate a strategy and report *every* problem with its JSON path.

Two passes: pydantic checks shapes and ranges; then a program check follows the steps in order
(ids, forward branches, variables read before they are written, tools and model aliases).
Messages are written for the person editing the JSON, not for the type checker.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from egur_core.strategy.limits import (
    MAX_JSON_CHARS,
    MAX_NESTING,
    MAX_STEPS,
    MAX_TEMPLATE_CHARS,
    ValidationIssue,
    size_issues,
)
from egur_core.strategy.model import (
    PROBLEM_VAR,
    STEP_KINDS,
    AnswerStep,
    BranchStep,
    LoopStep,
    Step,
    Strategy,
    VerifyStep,
    step_input_vars,
    step_models,
    step_reads,
    step_tools,
    step_writes,
)
from egur_core.strategy.templates import template_references

_STEP: TypeAdapter = TypeAdapter(Step)
NO_ANSWER = "no 'answer' step at the top level: nothing would be returned"


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
    oversized = size_issues(data)
    if oversized:
        return None, oversized
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        shape_issues = [_issue_from_pydantic(err) for err in exc.errors()]
        return None, shape_issues + _salvaged_program_issues(data, known_tools, known_models, shape_issues)
    issues = list(_ProgramChecker(known_tools, known_models).check(strategy))
    return strategy, issues


def _salvaged_program_issues(data: dict[str, Any], known_tools, known_models,
                             already: list[ValidationIssue]) -> list[ValidationIssue]:
    """Program checks over the steps that did parse, so one bad field does not hide every other problem.

    Variables an unparsable step would have written count as written (no false alarms downstream)."""
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        return []
    parsed: list[tuple[int, Step]] = []
    defined = {PROBLEM_VAR}
    found: list[ValidationIssue] = []
    for index, raw in enumerate(raw_steps):
        try:
            parsed.append((index, _STEP.validate_python(raw)))
            continue
        except ValidationError:
            pass
        if isinstance(raw, dict):
            found += _raw_template_issues(raw, f"$.steps[{index}]", defined)
            defined |= {str(raw[k]) for k in ("out", "flag", "feedback") if isinstance(raw.get(k), str)}
    checker = _ProgramChecker(known_tools, known_models)
    found += list(checker.check_steps(parsed, "$.steps", {PROBLEM_VAR} | defined, final=False))
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
    return ValidationIssue(path=path, message=msg)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in STEP_KINDS or part.startswith("function-"))


def _format_path(loc: Iterable[Any]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class _ProgramChecker:
    def __init__(self, known_tools: Collection[str] | None, known_models: Collection[str] | None):
        self.known_tools = known_tools
        self.known_models = known_models
        self.seen_ids: set[str] = set()

    def check(self, strategy: Strategy) -> Iterable[ValidationIssue]:
        yield from self.check_steps(list(enumerate(strategy.steps)), "$.steps", {PROBLEM_VAR}, final=True)

    def check_steps(self, steps: list[tuple[int, Step]], path: str, defined: set[str],
                    final: bool) -> Iterable[ValidationIssue]:
        """``final``: every step is present, so a missing answer step is really missing."""
        yield from self._check_block(steps, path, defined)
        if final and not any(isinstance(s, AnswerStep) for _, s in steps):
            yield ValidationIssue(path=path, message=NO_ANSWER)

    def _check_block(self, numbered: list[tuple[int, Step]], path: str,
                     defined: set[str]) -> Iterable[ValidationIssue]:
        ids_in_block = [s.id for _, s in numbered]
        for position, (index, step) in enumerate(numbered):
            here = f"{path}[{index}]"
            if step.id in self.seen_ids:
                yield ValidationIssue(path=f"{here}.id", message=f"duplicate step id '{step.id}'")
            self.seen_ids.add(step.id)
            yield from self._check_reads(step, here, defined)
            yield from self._check_catalogue(step, here)
            if isinstance(step, BranchStep):
                yield from self._check_branch(step, here, ids_in_block, position)
            if isinstance(step, VerifyStep):
                yield from self._check_verify(step, here)
            if isinstance(step, LoopStep):
                inner = set(defined)
                yield from self._check_block(list(enumerate(step.body)), f"{here}.body", inner)
                if step.until and step.until not in inner:
                    yield ValidationIssue(
                        path=f"{here}.until", message=f"'{step.until}' is never set inside the loop body"
                    )
                defined |= inner
            defined.update(step_writes(step))

    def _check_reads(self, step: Step, here: str, defined: set[str]) -> Iterable[ValidationIssue]:
        for field, template in _template_fields(step):
            for name, optional in template_references(template):
                if not optional and name not in defined:
                    yield ValidationIssue(
                        path=f"{here}.{field}",
                        message=f"reads '{{{name}}}' before any step writes it (use '{{{name}?}}' if it may be unset)",
                    )
        for name, field in zip(step_input_vars(step), _input_var_fields(step)):
            if name not in defined:
                yield ValidationIssue(path=f"{here}.{field}", message=f"reads '{name}' before any step writes it")

    def _check_catalogue(self, step: Step, here: str) -> Iterable[ValidationIssue]:
        if self.known_tools is not None:
            for tool in step_tools(step):
                if tool and tool not in self.known_tools:
                    yield ValidationIssue(
                        path=f"{here}.{'tools' if step.op == 'agent' else 'tool'}",
                        message=f"unknown tool '{tool}' (known: {', '.join(sorted(self.known_tools))})",
                    )
        if self.known_models is not None:
            for model in step_models(step):
                if model not in self.known_models:
                    yield ValidationIssue(
                        path=f"{here}.model",
                        message=f"unknown model alias '{model}' (known: {', '.join(sorted(self.known_models))})",
                    )

    @staticmethod
    def _check_branch(step: BranchStep, here: str, ids: list[str], index: int) -> Iterable[ValidationIssue]:
        for field, target in (("then", step.then), ("else", step.else_)):
            if target is None:
                continue
            if target not in ids:
                yield ValidationIssue(
                    path=f"{here}.{field}", message=f"unknown step id '{target}' (a branch jumps within its own block)"
                )
            elif ids.index(target) <= index:
                yield ValidationIssue(
                    path=f"{here}.{field}",
                    message=f"branch to '{target}' jumps backwards; use a 'loop' step to repeat work",
                )

    @staticmethod
    def _check_verify(step: VerifyStep, here: str) -> Iterable[ValidationIssue]:
        if step.method == "llm" and not step.prompt:
            yield ValidationIssue(path=f"{here}.prompt", message="an LLM verify step needs a prompt")
        if step.method == "tool" and not step.tool:
            yield ValidationIssue(path=f"{here}.tool", message="a tool verify step needs a tool")


def _template_fields(step: Step) -> list[tuple[str, str]]:
    names = ("system", "prompt", "input")
    return [(n, getattr(step, n)) for n in names if isinstance(getattr(step, n, None), str)]


def _input_var_fields(step: Step) -> list[str]:
    return ["if"] if isinstance(step, BranchStep) else ["from"]


__all__ = ["ValidationIssue", "StrategyInvalid", "parse_strategy", "validate_strategy", "step_reads", "size_issues",
           "MAX_STEPS", "MAX_NESTING", "MAX_TEMPLATE_CHARS"]
