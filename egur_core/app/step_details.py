"""One step of a strategy opened up: its prompt, model and sampling, and, with a trace, what it did.

Graphs drawn by Graphviz cannot be clicked in Streamlit, so the pages put a step picker next to the
graph; this is what the picker shows. Pure: a strategy (and optionally a trace) in, plain data out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import LoopStep, Strategy

SAMPLING = ("model", "temperature", "top_p", "max_tokens", "n", "max_steps")
TEXTS = ("system", "prompt")


@dataclass(frozen=True)
class StepDetail:
    step_id: str
    op: str
    note: str
    texts: dict[str, str]
    """The step's own text templates (system prompt, prompt), before variables are filled in."""
    sampling: dict[str, Any]
    """Model alias and sampling parameters (LLM, agent, select and critic steps)."""
    wiring: dict[str, Any]
    """Everything else: tool, input, from, out, flag, branch targets, loop limits."""
    runs: list[StepTrace] = field(default_factory=list)
    """What each execution of the step did (several when it sits in a loop), from the trace."""

    @property
    def tokens(self) -> int:
        return sum(r.tokens_in + r.tokens_out for r in self.runs)

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.runs)


def step_ids(strategy: Strategy) -> list[str]:
    """Every step id in program order, loops and their bodies included."""
    return [step.id for step in strategy.iter_steps()]


def step_detail(strategy: Strategy, step_id: str, trace: Sequence[StepTrace] | None = None) -> StepDetail:
    """The step called ``step_id`` (``KeyError`` if none) and, given a trace, its runs."""
    step = next((s for s in strategy.iter_steps() if s.id == step_id), None)
    if step is None:
        raise KeyError(f"no step {step_id!r} in {strategy.name}")
    data = step.model_dump(by_alias=True, exclude_none=True)
    if isinstance(step, LoopStep):
        data["body"] = [s.id for s in step.body]
    texts = {k: data.pop(k) for k in TEXTS if data.get(k)}
    sampling = {k: data.pop(k) for k in SAMPLING if k in data}
    note = data.pop("note", "")
    data.pop("id", None)
    op = data.pop("op")
    runs = [t for t in trace or [] if t.step_id == step_id]
    return StepDetail(step_id, op, note, texts, sampling, data, runs)
