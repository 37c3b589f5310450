"""The compact candidate form a small model can write: reuse a known strategy, with a few overrides.

``{"use": "entry:12" | "chain_of_thought", "set": {"model": "strong", "temperature": 0.7, "n": 5,
"max_iters": 3, "prompt": "..."}}`` names a retrieved library entry (by id) or a shipped strategy (by
name) and changes only what the overrides say. The result is validated like any candidate and, when
anything changed, recorded as a new version whose parent is the strategy it used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from egur_core.strategy.model import AgentStep, LLMStep, LoopStep, SelectStep, Strategy, VerifyStep
from egur_core.strategy.validation import ValidationIssue

_ENTRY_REF = re.compile(r"^\s*(?:entry\s*[:#]?\s*)?(\d+)\s*$", re.I)


class Overrides(BaseModel):
    """What a compact candidate may change in the strategy it reuses."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, max_length=64, description="a model tier or role for every model step, "
                              "e.g. cheap, strong, executor")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="for every llm and agent step")
    n: int | None = Field(None, ge=1, le=32, description="samples, for steps that already sample")
    max_iters: int | None = Field(None, ge=1, le=20, description="for every loop")
    prompt: str | None = Field(None, max_length=4000, description="a new system prompt for the first model step")


class Reuse(BaseModel):
    """A resolved ``use``: the strategy, and the library entry it came from (None for a shipped one)."""

    strategy: Strategy
    entry_id: int | None = None


def resolve_use(use: str | int, library: Mapping[int, Strategy], shipped: Mapping[str, Strategy]) -> Reuse | None:
    """The strategy ``use`` names: a retrieved library entry by id, or a shipped strategy by file or name."""
    match = _ENTRY_REF.match(str(use))
    if match and int(match[1]) in library:
        return Reuse(strategy=library[int(match[1])], entry_id=int(match[1]))
    key = str(use).strip()
    strategy = shipped.get(key) or next((s for s in shipped.values() if s.name == key), None)
    return Reuse(strategy=strategy) if strategy is not None else None


def apply_overrides(strategy: Strategy, overrides: Overrides | None) -> tuple[Strategy, list[ValidationIssue]]:
    """The strategy with ``overrides`` applied, and what could not be applied (an override with no target)."""
    if overrides is None or not overrides.model_dump(exclude_none=True):
        return strategy, []
    data = strategy.to_json_dict()
    changed = Strategy.model_validate(data)  # a private copy to edit
    steps = changed.iter_steps()
    model_steps = [s for s in steps if isinstance(s, LLMStep | AgentStep | SelectStep)
                   or (isinstance(s, VerifyStep) and s.method == "llm")]
    targets = {
        "model": model_steps,
        "temperature": [s for s in steps if isinstance(s, LLMStep | AgentStep)],
        "n": [s for s in steps if isinstance(s, LLMStep) and s.n > 1],
        "max_iters": [s for s in steps if isinstance(s, LoopStep)],
        "prompt": [s for s in steps if isinstance(s, LLMStep | AgentStep)][:1],
    }
    issues = []
    for field, value in overrides.model_dump(exclude_none=True).items():
        if not targets[field]:
            issues.append(ValidationIssue(path=f"$.set.{field}", message=f"'{strategy.name}' has no step that "
                                          f"'{field}' applies to"))
        for step in targets[field]:
            setattr(step, "system" if field == "prompt" else field, value)
    changed.name = _derived_name(strategy.name, overrides)
    return changed, issues


def _derived_name(name: str, overrides: Overrides) -> str:
    """``chain-of-thought`` + {temperature: 0.7, n: 5} -> ``chain-of-thought+temperature=0.7,n=5``."""
    parts = [f"{k}={v}" for k, v in overrides.model_dump(exclude_none=True).items() if k != "prompt"]
    if overrides.prompt:
        parts.append("prompt")
    return f"{name.split('+')[0]}+{','.join(parts)}"[:120]
