"""Strategies as data: a small typed program over named variables.

A strategy is what the Guide writes for one problem. Keeping it as validated data (not free-form
code) is what lets us store, hash, diff, draw, edit and safely execute it.

Variables: every step writes ``out`` (or ``flag`` for ``verify``); templates read ``{name}``.
``{problem}`` is always defined. ``{name?}`` reads a variable that may not be set yet (it renders
as an empty string), which is how a retry loop feeds the previous round's critique back in.
Control flow: ``branch`` jumps forward to a step of the same block; ``loop`` repeats its ``body``
until a flag is true or ``max_iters`` is reached. There is no backward jump, so every strategy
terminates.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MODEL_ALIAS = "executor"
PROBLEM_VAR = "problem"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Budget(_Model):
    """Hard limits for one execution; exceeding one ends the execution as failed."""

    max_calls: int = Field(20, ge=1, le=500, description="LLM calls + tool calls")
    max_tokens: int = Field(60_000, ge=1, le=5_000_000, description="prompt + completion tokens")
    max_seconds: float = Field(300.0, gt=0, le=3600, description="wall time")


def _op_required(schema: dict[str, Any]) -> None:
    """In JSON Schema the ``op`` discriminator is required: a decoder that follows the schema must write it
    (Python code may still omit it, each step class knows its own)."""
    required = schema.setdefault("required", [])
    if "op" in schema.get("properties", {}) and "op" not in required:
        required.insert(0, "op")


class _Step(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_op_required)

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)
    note: str = Field("", max_length=500, description="why this step exists (shown in the graph)")


class LLMStep(_Step):
    """One LLM call, optionally sampled ``n`` times (then ``out`` holds a list)."""

    op: Literal["llm"] = "llm"
    model: str = DEFAULT_MODEL_ALIAS
    system: str = ""
    prompt: str
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1, le=65_536)
    n: int = Field(1, ge=1, le=32)
    out: str


class ToolStep(_Step):
    """Run a registered tool on a rendered input."""

    op: Literal["tool"] = "tool"
    tool: str
    input: str
    out: str


class AgentStep(_Step):
    """An LLM that may call tools for up to ``max_steps`` turns before giving a final answer."""

    op: Literal["agent"] = "agent"
    model: str = DEFAULT_MODEL_ALIAS
    system: str = ""
    prompt: str
    tools: list[str] = Field(default_factory=list)
    max_steps: int = Field(5, ge=1, le=30)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1, le=65_536)
    out: str


class VoteStep(_Step):
    """Majority vote over the answers extracted from a list of samples."""

    op: Literal["vote"] = "vote"
    from_: str = Field(alias="from")
    out: str


class SelectStep(_Step):
    """An LLM judge picks the best of several samples."""

    op: Literal["select"] = "select"
    from_: str = Field(alias="from")
    model: str = DEFAULT_MODEL_ALIAS
    prompt: str = "Pick the candidate most likely to be correct for: {problem}"
    max_tokens: int = Field(256, ge=1, le=65_536)
    out: str


class VerifyStep(_Step):
    """A check that sets a boolean flag: an LLM critic (``PASS``/``FAIL``) or a tool that must succeed."""

    op: Literal["verify"] = "verify"
    method: Literal["llm", "tool"] = "llm"
    model: str = DEFAULT_MODEL_ALIAS
    prompt: str = ""
    tool: str = ""
    input: str = ""
    max_tokens: int = Field(256, ge=1, le=65_536)
    flag: str
    feedback: str = Field("", description="optional variable that receives the critique text")


class BranchStep(_Step):
    """Jump forward to ``then`` when ``if`` is truthy, else to ``else`` (or fall through)."""

    op: Literal["branch"] = "branch"
    if_: str = Field(alias="if")
    then: str
    else_: str | None = Field(None, alias="else")


class LoopStep(_Step):
    """Repeat ``body`` until the flag ``until`` is truthy or ``max_iters`` rounds have run."""

    op: Literal["loop"] = "loop"
    max_iters: int = Field(ge=1, le=20)
    until: str | None = None
    body: list[Step] = Field(min_length=1)


class AnswerStep(_Step):
    """The final answer: the value of a variable (the first element if it is a list)."""

    op: Literal["answer"] = "answer"
    from_: str = Field(alias="from")


Step = Annotated[
    LLMStep | ToolStep | AgentStep | VoteStep | SelectStep | VerifyStep | BranchStep | LoopStep | AnswerStep,
    Field(discriminator="op"),
]
LoopStep.model_rebuild()

STEP_KINDS = ("llm", "tool", "agent", "vote", "select", "verify", "branch", "loop", "answer")


class Strategy(_Model):
    name: str = Field(min_length=1, max_length=120)
    paradigm: Literal["workflow", "agentic"] = "workflow"
    summary: str = Field("", max_length=2000)
    budget: Budget = Field(default_factory=Budget)
    steps: list[Step] = Field(min_length=1)

    def to_json_dict(self) -> dict[str, Any]:
        """The canonical dict: aliases (``from``/``if``/``else``), defaults included, ``None`` dropped."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_brief_dict(self) -> dict[str, Any]:
        """The strategy without the fields left at their defaults (every step keeps its ``op``): the same
        program in far fewer tokens, for prompts."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
        for step, brief in zip(_walk(self.steps), _walk_dicts(data.get("steps", []))):
            brief["op"] = step.op
        return {"name": self.name, **data}

    def canonical_json(self) -> str:
        return json.dumps(self.to_json_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def hash(self) -> str:
        """Content identity: equal strategies share a hash whatever their key order or defaults."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def iter_steps(self) -> list[Step]:
        """Every step, loop bodies included, in program order."""
        return list(_walk(self.steps))


def _walk_dicts(steps: list[dict[str, Any]]):
    for step in steps:
        yield step
        yield from _walk_dicts(step.get("body", []))


def _walk(steps: list[Step]):
    for step in steps:
        yield step
        if isinstance(step, LoopStep):
            yield from _walk(step.body)


def step_reads(step: Step) -> list[str]:
    """Template texts and variable names a step reads (templates as raw strings)."""
    match step:
        case LLMStep() | AgentStep():
            return [step.system, step.prompt]
        case ToolStep():
            return [step.input]
        case VerifyStep():
            return [step.prompt, step.input]
        case SelectStep():
            return [step.prompt]
        case _:
            return []


def step_writes(step: Step) -> list[str]:
    match step:
        case VerifyStep():
            return [step.flag] + ([step.feedback] if step.feedback else [])
        case BranchStep() | LoopStep() | AnswerStep():
            return []
        case _:
            return [step.out]


def step_input_vars(step: Step) -> list[str]:
    """Variables a step reads by name (not through a template)."""
    match step:
        case VoteStep() | SelectStep() | AnswerStep():
            return [step.from_]
        case BranchStep():
            return [step.if_]
        case _:
            return []


def step_models(step: Step) -> list[str]:
    if isinstance(step, (LLMStep, AgentStep, SelectStep)):
        return [step.model]
    if isinstance(step, VerifyStep) and step.method == "llm":
        return [step.model]
    return []


def step_tools(step: Step) -> list[str]:
    match step:
        case ToolStep():
            return [step.tool]
        case AgentStep():
            return list(step.tools)
        case VerifyStep() if step.method == "tool":
            return [step.tool]
        case _:
            return []
