"""Pydantic models at the memory store's boundary, plus the store's error types.

Callers (the loop, the dashboard, the CLI) hand the store these models and get them back, so a
typo in a field name fails loudly at the call site instead of writing a silently wrong row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from egur_core.strategy.model import Strategy
from egur_core.strategy.roles import METHOD_ROLES, ROLES
from egur_core.strategy.text import clean_text

ProposalStatus = Literal["pending", "approved", "rejected"]
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "stopped", "failed")


class MemoryOpError(ValueError):
    """An op cannot be applied or undone (missing id, pinned item, changed since...). Nothing changed."""


class MemoryImportError(ValueError):
    """An import file was refused (corrupt, truncated, foreign, invalid rows). Nothing changed.

    Deliberately not the builtin ``ImportError``, which means "a Python module failed to import".
    """


def utcnow() -> datetime:
    """Naive UTC timestamp: DuckDB ``TIMESTAMP`` columns round-trip it exactly."""
    return datetime.now(UTC).replace(tzinfo=None)


def dumps(value: Any) -> str:
    """Compact, deterministic JSON for JSON columns (sorted keys so snapshots compare as text)."""
    return clean_text(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str))


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunConfig(_Record):
    """What identifies and reproduces a run; stored in ``runs``."""

    benchmark: str
    method: str = "egur"
    label: str = ""
    config: dict[str, Any] = Field(default_factory=dict, description="everything else, as JSON")
    simulated: bool = False
    model: str = ""
    n_problems: int = Field(0, ge=0)
    k: int = Field(1, ge=0)
    seed: int = 0
    comparison_id: str | None = None
    price_known: bool = Field(True, description="every model the run uses has a known price")
    run_id: str | None = Field(None, description="chosen by the store when None")


FeedbackSource = Literal["label", "verifier", "agreement", "failed", "none"]
"""Where an execution's ``correct`` came from (see ``egur_core.reasoner.feedback``)."""


class ExecutionRecord(_Record):
    """One candidate strategy run on one problem."""

    run_id: str
    idx: int
    candidate: int = 0
    strategy: Strategy | None = None
    strategy_hash: str | None = Field(None, description="used when ``strategy`` is None")
    strategy_parent: str | None = Field(None, description="the version this strategy was derived from")
    strategy_origin: str = Field("guide", description="who made this version: guide, guide-compact, fallback, ...")
    strategy_made_by: str | None = Field(None, description="the model that wrote this version, if a model did")
    feedback_source: FeedbackSource | None = Field(None, description="where ``correct`` came from")
    rationale: str = ""
    answer: str | None = None
    correct: bool | None = None
    ok: bool = True
    error: str | None = None
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    trace: Any = None
    chosen: bool = False
    exploited: bool = False


EGUR_METHODS = ("egur", "ask")
"""The methods (``runs.method``) that are EGuR itself: the loop and Ask. Every other method is a baseline, whose
executions of a strategy are kept apart from EGuR's statistics of it."""


class ProblemResult(_Record):
    """The outcome of one problem, written once by ``finish_problem``; costs split by role."""

    run_id: str
    idx: int
    status: Literal["finished", "failed"] = "finished"
    answer: str | None = None
    correct: bool | None = None
    exploited: bool = False
    chosen_execution_id: int | None = None
    chosen_strategy_hash: str | None = None
    cost_guide: float = 0.0
    cost_executor: float = 0.0
    cost_consolidator: float = 0.0
    cost_judge: float = Field(0.0, description="grading by an LLM judge (a dataset's rubric), apart from the method")
    tokens_guide_in: int = 0
    tokens_guide_out: int = 0
    tokens_executor_in: int = 0
    tokens_executor_out: int = 0
    tokens_consolidator_in: int = 0
    tokens_consolidator_out: int = 0
    tokens_judge_in: int = 0
    tokens_judge_out: int = 0
    calls: int = 0
    latency_s: float = 0.0
    error: str | None = None
    gold: str | None = Field(None, description="the label, recorded once the answer is chosen and graded")
    fallback: bool = Field(False, description="the Guide proposed nothing runnable; the fallback strategy ran")
    tokens_cached_in: int = Field(0, description="prompt tokens served from the provider's cache (all roles)")
    tokens_reasoning: int = Field(0, description="completion tokens spent on hidden reasoning (all roles)")

    @property
    def cost_usd(self) -> float:
        """The method's cost: every role but the judge, whose grading is counted apart (``cost_judge``)."""
        return sum(getattr(self, f"cost_{role}") for role in METHOD_ROLES)

    @property
    def cost_by_role(self) -> dict[str, float]:
        return {role: getattr(self, f"cost_{role}") for role in ROLES}

    @property
    def tokens_by_role(self) -> dict[str, int]:
        return {role: getattr(self, f"tokens_{role}_in") + getattr(self, f"tokens_{role}_out") for role in ROLES}

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens of every role, of which ``tokens_cached_in`` came from the provider's cache."""
        return sum(getattr(self, f"tokens_{role}_in") for role in METHOD_ROLES)


class RetrievedEntry(_Record):
    entry_id: int
    rank: int
    similarity: float
    signature: str
    benchmark: str
    strategy_hash: str
    strategy: Strategy
    uses: int
    successes: int
    total_cost: float
    pinned: bool
    origin: str = "learned"
    sim_uses: int = 0
    sim_successes: int = 0
    sim_total_cost: float = 0.0

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.uses if self.uses else None

    @property
    def mean_cost(self) -> float | None:
        return self.total_cost / self.uses if self.uses else None

    def measured(self, include_simulated: bool) -> tuple[int, int, float]:
        """(uses, successes, total cost): all of them, or only those measured on a real model."""
        if include_simulated:
            return self.uses, self.successes, self.total_cost
        return self.uses - self.sim_uses, self.successes - self.sim_successes, self.total_cost - self.sim_total_cost


class RetrievedNote(_Record):
    note_id: int
    rank: int
    similarity: float
    text: str
    benchmark: str
    helpful: int
    harmful: int
    pinned: bool


class Retrieved(_Record):
    """What conditions one problem: the nearest library entries and notes (pinned notes always)."""

    entries: list[RetrievedEntry] = Field(default_factory=list)
    notes: list[RetrievedNote] = Field(default_factory=list)


class PruneRule(_Record):
    """Which unpinned items to delete in bulk; every given criterion must hold (AND)."""

    kind: Literal["entries", "notes"] = "entries"
    max_success_rate: float | None = Field(None, ge=0.0, le=1.0, description="entries: successes/uses <= this")
    min_uses: int | None = Field(None, ge=0, description="only items used (entries) or rated (notes) this often")
    older_than_days: float | None = Field(None, ge=0)
    never_retrieved: bool = False


class Proposal(_Record):
    proposal_id: int
    created_at: datetime
    run_id: str | None
    idx: int | None
    op: dict[str, Any]
    status: ProposalStatus
    decided_at: datetime | None = None
    applied_op_id: int | None = None
    note: str = ""


class ProblemOps(_Record):
    """What became of one problem's Consolidator ops (see ``MemoryStore.apply_problem_ops``)."""

    applied: list[int] = Field(default_factory=list, description="op ids in the audit log")
    proposed: list[int] = Field(default_factory=list, description="proposal ids in the review queue")
    dropped: list[str] = Field(default_factory=list, description="ops refused, with the reason")
    already_done: bool = Field(False, description="a resumed run found them applied before the restart")


class ImportResult(_Record):
    batch_id: str
    mode: Literal["replace", "merge"]
    entries: int
    notes: int
    strategies: int
    history_ops: int
    op_ids: list[int]
    warnings: list[str] = Field(default_factory=list, description="what the import will cause: caps passed")
