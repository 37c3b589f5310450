"""Two strategy versions compared by structure: steps added, removed and changed (with each changed
parameter), and the control-flow edges that moved. Steps are matched by id, which versions keep
(a Guide variant or a person's edit changes parameters, rarely ids).

>>> from egur_core.strategy.model import Strategy
>>> a = Strategy.model_validate({"name": "a", "steps": [
...     {"id": "s", "op": "llm", "prompt": "{problem}", "out": "x"}, {"id": "f", "op": "answer", "from": "x"}]})
>>> b = Strategy.model_validate({"name": "b", "steps": [
...     {"id": "s", "op": "llm", "prompt": "{problem}", "out": "x", "temperature": 0.7},
...     {"id": "f", "op": "answer", "from": "x"}]})
>>> [(c.step_id, c.status, c.changes) for c in strategy_diff(a, b).steps if c.status != "same"]
[('s', 'changed', [('temperature', 0.0, 0.7)])]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from egur_core.strategy.graph import control_flow, to_dot
from egur_core.strategy.model import LoopStep, Step, Strategy

Status = Literal["added", "removed", "changed", "same"]
COLOURS = {"added": "#bbf7d0", "changed": "#fde68a"}


@dataclass(frozen=True)
class StepChange:
    step_id: str
    status: Status
    op: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StrategyDiff:
    steps: list[StepChange]
    fields: list[tuple[str, Any, Any]]
    """Strategy-level differences: name, paradigm, summary, budget."""
    edges_added: list[tuple[str, str, str]]
    edges_removed: list[tuple[str, str, str]]

    @property
    def identical(self) -> bool:
        return not self.fields and not self.edges_added and not self.edges_removed and all(
            s.status == "same" for s in self.steps)

    def parameter_rows(self) -> list[dict[str, Any]]:
        """One row per changed parameter (``step``, ``parameter``, ``A``, ``B``), strategy fields first."""
        rows = [{"step": "(strategy)", "parameter": k, "A": a, "B": b} for k, a, b in self.fields]
        for s in self.steps:
            if s.status in ("added", "removed"):
                rows.append({"step": s.step_id, "parameter": f"({s.status} {s.op} step)", "A": None, "B": None})
            rows += [{"step": s.step_id, "parameter": k, "A": a, "B": b} for k, a, b in s.changes]
        return rows


def _params(step: Step) -> dict[str, Any]:
    data = step.model_dump(by_alias=True, exclude_none=True)
    if isinstance(step, LoopStep):
        data["body"] = [s.id for s in step.body]
    data.pop("id", None)
    return data


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def strategy_diff(a: Strategy, b: Strategy) -> StrategyDiff:
    """What changed from ``a`` to ``b``."""
    steps_a = {s.id: s for s in a.iter_steps()}
    steps_b = {s.id: s for s in b.iter_steps()}
    changes = []
    for step_id in [*steps_a, *[i for i in steps_b if i not in steps_a]]:
        left, right = steps_a.get(step_id), steps_b.get(step_id)
        if left is None or right is None:
            status: Status = "added" if left is None else "removed"
            changes.append(StepChange(step_id, status, (left or right).op))
            continue
        diff = _changes(_params(left), _params(right))
        changes.append(StepChange(step_id, "changed" if diff else "same", right.op, diff))
    top = _changes(_flat({"name": a.name, "paradigm": a.paradigm, "summary": a.summary,
                          "budget": a.budget.model_dump()}),
                   _flat({"name": b.name, "paradigm": b.paradigm, "summary": b.summary,
                          "budget": b.budget.model_dump()}))
    edges_a, edges_b = set(control_flow(a).edges), set(control_flow(b).edges)
    return StrategyDiff(changes, top, sorted(edges_b - edges_a), sorted(edges_a - edges_b))


def diff_dot(b: Strategy, diff: StrategyDiff) -> str:
    """B drawn once, its added steps green and changed ones amber (removed steps are listed, not drawn)."""
    return to_dot(b, highlight={s.step_id: COLOURS[s.status] for s in diff.steps if s.status in COLOURS})
