"""A run's progress as the live view and the problem feed show it: plain, immutable records.

Charts and result views read these without importing the loop or the job machinery, so drawing a
chart never pulls in a model client, memory or tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from egur_core.evals.metrics import accuracy

FINAL = ("finished", "stopped", "failed")


@dataclass(frozen=True)
class ProblemRecord:
    """One finished problem as the live view and the feed show it."""

    idx: int
    correct: bool | None
    cost_usd: float
    exploited: bool
    chosen_strategy: str | None = None
    answer: str | None = None
    candidates: tuple[str, ...] = ()
    cost_by_role: dict[str, float] = field(default_factory=dict)
    tokens: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    ops_applied: int = 0
    ops_proposed: int = 0
    guide_error: str | None = None


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable copy of a job's state: safe to read while the thread keeps writing."""

    run_id: str
    benchmark: str
    total: int
    status: str
    records: tuple[ProblemRecord, ...]
    current: int | None = None  # the problem the latest event was about
    stage: str = ""
    in_flight: frozenset[int] = frozenset()  # problems started and not yet finished (several with parallel > 1)
    error: str | None = None
    price_known: bool = True
    started_at: float = 0.0
    finished_at: float | None = None

    @property
    def done(self) -> int:
        return len(self.records)

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    @property
    def accuracy(self) -> float | None:
        return accuracy(r.correct for r in self.records)

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.records)


def problem_record(idx: int, outcome: dict[str, Any], proposed: dict[str, Any]) -> ProblemRecord:
    tokens = outcome.get("tokens_by_role") or {}
    return ProblemRecord(
        idx=idx, correct=outcome.get("correct"), cost_usd=float(outcome.get("cost_usd") or 0.0),
        exploited=bool(outcome.get("exploited")), chosen_strategy=outcome.get("chosen_strategy"),
        answer=outcome.get("answer"), candidates=tuple(proposed.get("names") or ()),
        cost_by_role=dict(outcome.get("cost_by_role") or {}), tokens=int(sum(tokens.values())),
        prompt_tokens=int(outcome.get("prompt_tokens") or 0), cached_tokens=int(outcome.get("tokens_cached_in") or 0),
        ops_applied=int(outcome.get("ops_applied") or 0), ops_proposed=int(outcome.get("ops_proposed") or 0),
        guide_error=proposed.get("guide_error"))
