"""Strategies as data: a small typed program over named variables.

A strategy is what the Guide writes for one problem. Keeping it as validated data (not free-form
code) is what lets us store, hash, diff, draw, edit and safely execute it.

Variables: every step writes ``out`` (or ``flag`` for ``verify``); templates read ``{name}``.
``{problem}`` is always defined. ``{name?}`` reads a variable that may not be set yet (it renders
as an empty string), which is how a retry loop feeds the previous round's critique back in.
Control flow: ``branch`` jumps forward to a step of the same block; ``loop`` repeats its ``body``
until a flag is true or ``max_iters`` is reached. There is no backward jump, so every strategy
terminates. Aggregation: ``vote``, ``select`` and ``gather`` read one variable or a list of them,
so an ensemble of different methods is one strategy; ``extract`` reads a field of JSON output.

Every model is closed and every number bounded, so the Guide's reply schema (generated from these
classes) lets a constrained decoder write only well-formed programs. Knobs added after strategies
were first stored default to ``None`` and are left out of the canonical JSON when unset, so every
stored strategy keeps its hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from egur_core.strategy.sampling import MAX_SEED, MAX_STOP_SEQUENCES, ReasoningEffort, Sampling

DEFAULT_MODEL_ALIAS = "executor"
PROBLEM_VAR = "problem"
MAX_TOOL_TIMEOUT_S = 120.0  # per tool call; the sandbox's wall-time deadline
MIN_TOOL_MEMORY_MB, MAX_TOOL_MEMORY_MB = 128, 2048  # the interpreter needs ~100 MB; 2 GB is what a host can spare
MAX_SOURCES = 16
VERIFY_SYSTEM = "You are a strict reviewer."
TRAILING_FIELDS = ("seed", "stop", "reasoning_effort", "presence_penalty", "frequency_penalty", "timeout_s",
                   "memory_mb")
FIELD_PATH_PATTERN = r"^(?:[A-Za-z_][\w\-]*|\[\d+\])(?:\.[A-Za-z_][\w\-]*|\[\d+\])*$"

Paradigm = Literal["workflow", "agentic"]
Sources = str | Annotated[list[str], Field(min_length=1, max_length=MAX_SOURCES)]
StopSequence = Annotated[str, Field(min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Budget(_Model):
    """Hard limits for one execution; a call that would pass one ends the execution as failed."""

    max_calls: int = Field(20, ge=1, le=500, description="LLM calls + tool calls")
    max_tokens: int = Field(60_000, ge=1, le=5_000_000, description="prompt + completion tokens")
    max_seconds: float = Field(300.0, gt=0, le=3600, description="wall time")
    max_cost_usd: float | None = Field(None, gt=0, le=100.0, description=(
        "dollars at the configured prices; a model call whose worst case (its prompt plus max_tokens) "
        "would pass it is not made"))


def _op_required(schema: dict[str, Any]) -> None:
    """In JSON Schema the ``op`` discriminator is required: a decoder that follows the schema must write it
    (Python code may still omit it, each step class knows its own)."""
    required = schema.setdefault("required", [])
    if "op" in schema.get("properties", {}) and "op" not in required:
        required.insert(0, "op")


def _step_schema(schema: dict[str, Any]) -> None:
    """``op`` required, and the optional knobs and tool limits last: a decoder writes keys in schema order, so
    a step's kind and its own fields come before the settings most steps leave unset."""
    _op_required(schema)
    props = schema.get("properties", {})
    schema["properties"] = ({k: v for k, v in props.items() if k not in TRAILING_FIELDS}
                            | {k: props[k] for k in TRAILING_FIELDS if k in props})


class _Step(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_step_schema)

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)
    note: str = Field("", max_length=500, description="why this step exists (shown in the graph)")


class _Knobs(_Model):
    """Sampling knobs a server may not take: unset, nothing is sent."""

    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="reproducible sampling where the endpoint honours it")
    stop: list[StopSequence] | None = Field(None, max_length=MAX_STOP_SEQUENCES)
    reasoning_effort: ReasoningEffort | None = Field(None, description="for reasoning models; dropped where refused")
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)

    def sampling(self, *, max_tokens: int, temperature: float = 0.0, top_p: float = 1.0, n: int = 1) -> Sampling:
        return Sampling(max_tokens=max_tokens, temperature=temperature, top_p=top_p, n=n, seed=self.seed,
                        stop=self.stop, reasoning_effort=self.reasoning_effort,
                        presence_penalty=self.presence_penalty, frequency_penalty=self.frequency_penalty)


class _ToolLimits(_Model):
    """Per-step limits for tool calls; unset, the runtime's defaults apply."""

    timeout_s: float | None = Field(None, gt=0, le=MAX_TOOL_TIMEOUT_S, description="wall time of one tool call")
    memory_mb: int | None = Field(None, ge=MIN_TOOL_MEMORY_MB, le=MAX_TOOL_MEMORY_MB,
                                  description="memory of one sandboxed tool call")


class LLMStep(_Step, _Knobs):
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

    def request(self) -> Sampling:
        return self.sampling(max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p, n=self.n)


class ToolStep(_Step, _ToolLimits):
    """Run a registered tool on a rendered input."""

    op: Literal["tool"] = "tool"
    tool: str
    input: str
    out: str


class AgentStep(_Step, _Knobs, _ToolLimits):
    """An LLM that calls tools (natively where the endpoint allows) for up to ``max_steps`` turns, then answers.

    The model decides which tool runs when: a strategy with an agent step is agentic."""

    op: Literal["agent"] = "agent"
    model: str = DEFAULT_MODEL_ALIAS
    system: str = ""
    prompt: str
    tools: list[str] = Field(default_factory=list, max_length=MAX_SOURCES)
    max_steps: int = Field(5, ge=1, le=30)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1, le=65_536)
    out: str

    def request(self) -> Sampling:
        return self.sampling(max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p)


class VoteStep(_Step):
    """Majority vote over the final answers in one variable or several (an ensemble of methods)."""

    op: Literal["vote"] = "vote"
    from_: Sources = Field(alias="from")
    out: str


class SelectStep(_Step, _Knobs):
    """An LLM judge picks the best of the candidates in one variable or several."""

    op: Literal["select"] = "select"
    from_: Sources = Field(alias="from")
    model: str = DEFAULT_MODEL_ALIAS
    system: str | None = Field(None, description="the judge's system prompt (none by default)")
    prompt: str = "Pick the candidate most likely to be correct for: {problem}"
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="0 when unset")
    max_tokens: int = Field(256, ge=1, le=65_536)
    out: str

    def request(self) -> Sampling:
        return self.sampling(max_tokens=self.max_tokens, temperature=self.temperature or 0.0)


class VerifyStep(_Step, _Knobs, _ToolLimits):
    """A check that sets a boolean flag: an LLM critic (``PASS``/``FAIL``) or a tool that must succeed."""

    op: Literal["verify"] = "verify"
    method: Literal["llm", "tool"] = "llm"
    model: str = DEFAULT_MODEL_ALIAS
    system: str | None = Field(None, description=f"the critic's system prompt (default: {VERIFY_SYSTEM!r})")
    prompt: str = ""
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="0 when unset")
    tool: str = ""
    input: str = ""
    max_tokens: int = Field(256, ge=1, le=65_536)
    flag: str
    feedback: str = Field("", description="optional variable that receives the critique text")

    def request(self) -> Sampling:
        return self.sampling(max_tokens=self.max_tokens, temperature=self.temperature or 0.0)


class GatherStep(_Step):
    """Collect several variables into one list (lists are flattened), e.g. for a vote or a prompt."""

    op: Literal["gather"] = "gather"
    from_: list[str] = Field(alias="from", min_length=1, max_length=MAX_SOURCES)
    out: str


class ExtractStep(_Step):
    """Read one field of the JSON in a variable: ``answer``, ``result.value``, ``items[0].name``.

    An array becomes a list variable, a boolean a flag, anything else text. A missing field uses
    ``default``, or fails the step when there is none."""

    op: Literal["extract"] = "extract"
    from_: str = Field(alias="from")
    path: str = Field(pattern=FIELD_PATH_PATTERN, max_length=200)
    default: str | None = Field(None, max_length=2000)
    out: str


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
    """The final answer: the value of a variable, which must be one value (not a list of samples)."""

    op: Literal["answer"] = "answer"
    from_: str = Field(alias="from")


Step = Annotated[
    LLMStep | ToolStep | AgentStep | VoteStep | SelectStep | VerifyStep | GatherStep | ExtractStep | BranchStep
    | LoopStep | AnswerStep,
    Field(discriminator="op"),
]
LoopStep.model_rebuild()

STEP_KINDS = ("llm", "tool", "agent", "vote", "select", "verify", "gather", "extract", "branch", "loop", "answer")


class Strategy(_Model):
    name: str = Field(min_length=1, max_length=120)
    paradigm: Paradigm | None = Field(None, description=(
        "derived from the steps (agentic when an agent step decides which tools run); leave it out"))
    summary: str = Field("", max_length=2000)
    budget: Budget = Field(default_factory=Budget)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _derive_paradigm(self) -> Strategy:
        """Unset, the paradigm is derived; a stated one is kept as stored (validation reports a wrong one)."""
        if self.paradigm is None:
            self.paradigm = derive_paradigm(self.steps)
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The canonical dict: aliases (``from``/``if``/``else``), defaults included, ``None`` dropped."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_brief_dict(self) -> dict[str, Any]:
        """The strategy without the fields left at their defaults (every step keeps its ``op``): the same
        program in far fewer tokens, for prompts."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
        for step, brief in zip(walk_steps(self.steps), _walk_dicts(data.get("steps", []))):
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
        return list(walk_steps(self.steps))


def _walk_dicts(steps: list[dict[str, Any]]):
    for step in steps:
        yield step
        yield from _walk_dicts(step.get("body", []))


def walk_steps(steps: list[Step]):
    for step in steps:
        yield step
        if isinstance(step, LoopStep):
            yield from walk_steps(step.body)


def derive_paradigm(steps: list[Step]) -> Paradigm:
    """Agentic when an agent step decides the control flow (which tools run, when to stop), else workflow."""
    return "agentic" if any(isinstance(s, AgentStep) for s in walk_steps(steps)) else "workflow"


def sources(step: VoteStep | SelectStep | GatherStep) -> list[str]:
    """The variables an aggregating step reads, as a list whichever way ``from`` was written."""
    return [step.from_] if isinstance(step.from_, str) else list(step.from_)
