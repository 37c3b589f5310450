"""The program checks: rules that need the whole program, not one field (pydantic checks those).

The checker follows the steps in order: unique ids, forward branches, variables read before they
are written, tools and model aliases from the catalogues, answers that would pick one sample of
many, tool limits longer than the strategy's wall time, and a stated paradigm the steps contradict.
Each issue carries the JSON path of the field to fix.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pydantic import BaseModel

from egur_core.strategy.dataflow import (
    step_input_vars,
    step_models,
    step_reads,
    step_tools,
    step_writes,
    writes_list,
)
from egur_core.strategy.model import (
    PROBLEM_VAR,
    AgentStep,
    AnswerStep,
    BranchStep,
    LoopStep,
    Step,
    Strategy,
    ToolStep,
    VerifyStep,
    derive_paradigm,
)
from egur_core.strategy.templates import template_references

NO_ANSWER = "no 'answer' step at the top level: nothing would be returned"


class ValidationIssue(BaseModel):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ProgramChecker:
    """One pass over a program; ``known_tools`` / ``known_models`` of ``None`` skip the catalogue checks."""

    def __init__(self, known_tools: Collection[str] | None, known_models: Collection[str] | None):
        self.known_tools = known_tools
        self.known_models = known_models
        self.seen_ids: set[str] = set()
        self.lists: dict[str, str] = {}  # variable -> the step whose list it holds now
        self.max_seconds: float | None = None

    def check(self, strategy: Strategy) -> Iterable[ValidationIssue]:
        self.max_seconds = strategy.budget.max_seconds
        yield from self.check_steps(list(enumerate(strategy.steps)), "$.steps", {PROBLEM_VAR}, final=True)
        yield from check_paradigm(strategy)

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
            yield from self._check_tool_limits(step, here)
            if isinstance(step, BranchStep):
                yield from _check_branch(step, here, ids_in_block, position)
            if isinstance(step, VerifyStep):
                yield from _check_verify(step, here)
            if isinstance(step, AnswerStep) and step.from_ in self.lists:
                yield ValidationIssue(path=f"{here}.from", message=(
                    f"'{step.from_}' holds a list (from step '{self.lists[step.from_]}'), so the answer would be "
                    "ambiguous: add a 'vote' or 'select' step over it and answer from that"))
            if isinstance(step, LoopStep):
                inner = set(defined)
                yield from self._check_block(list(enumerate(step.body)), f"{here}.body", inner)
                if step.until and step.until not in inner:
                    yield ValidationIssue(
                        path=f"{here}.until", message=f"'{step.until}' is never set inside the loop body"
                    )
                defined |= inner
            self._note_writes(step)
            defined.update(step_writes(step))

    def _note_writes(self, step: Step) -> None:
        for name in step_writes(step):
            if writes_list(step):
                self.lists[name] = step.id
            else:
                self.lists.pop(name, None)

    def _check_reads(self, step: Step, here: str, defined: set[str]) -> Iterable[ValidationIssue]:
        for field, template in step_reads(step):
            for name, optional in template_references(template):
                if not optional and name not in defined:
                    yield ValidationIssue(
                        path=f"{here}.{field}",
                        message=f"reads '{{{name}}}' before any step writes it (use '{{{name}?}}' if it may be unset)",
                    )
        for field, name in step_input_vars(step):
            if name not in defined:
                yield ValidationIssue(path=f"{here}.{field}", message=f"reads '{name}' before any step writes it")

    def _check_catalogue(self, step: Step, here: str) -> Iterable[ValidationIssue]:
        if self.known_tools is not None:
            for position, tool in enumerate(step_tools(step)):
                if tool and tool not in self.known_tools:
                    yield ValidationIssue(
                        path=f"{here}.tools[{position}]" if isinstance(step, AgentStep) else f"{here}.tool",
                        message=f"unknown tool '{tool}' (known: {', '.join(sorted(self.known_tools))})",
                    )
        if self.known_models is not None:
            for model in step_models(step):
                if model not in self.known_models:
                    yield ValidationIssue(
                        path=f"{here}.model",
                        message=f"unknown model alias '{model}' (known: {', '.join(sorted(self.known_models))})",
                    )

    def _check_tool_limits(self, step: Step, here: str) -> Iterable[ValidationIssue]:
        if not isinstance(step, ToolStep | AgentStep | VerifyStep):
            return
        uses_tools = bool(step_tools(step))
        for field in ("timeout_s", "memory_mb"):
            if getattr(step, field) is not None and not uses_tools:
                yield ValidationIssue(path=f"{here}.{field}", message=f"{field} limits tool calls, and this step "
                                      "calls no tool: remove it")
        if step.timeout_s is not None and self.max_seconds is not None and step.timeout_s > self.max_seconds:
            yield ValidationIssue(path=f"{here}.timeout_s", message=(
                f"a tool call may take {step.timeout_s:g} s but the whole strategy only {self.max_seconds:g} s "
                "(budget.max_seconds): lower timeout_s or raise the budget"))


def check_paradigm(strategy: Strategy) -> Iterable[ValidationIssue]:
    derived = derive_paradigm(strategy.steps)
    if strategy.paradigm != derived:
        why = ("an agent step decides which tools run" if derived == "agentic"
               else "no agent step decides the control flow")
        yield ValidationIssue(path="$.paradigm", message=(
            f"paradigm is derived from the steps: this strategy is '{derived}' ({why}), not "
            f"'{strategy.paradigm}'; leave the field out"))


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


def _check_verify(step: VerifyStep, here: str) -> Iterable[ValidationIssue]:
    if step.method == "llm" and not step.prompt:
        yield ValidationIssue(path=f"{here}.prompt", message="an LLM verify step needs a prompt")
    if step.method == "tool" and not step.tool:
        yield ValidationIssue(path=f"{here}.tool", message="a tool verify step needs a tool")
