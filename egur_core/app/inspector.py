"""The problem inspector's queries: every problem of a run, a page at a time, and one problem in full.

A run can hold thousands of problems, so a page of the list is one ``LIMIT``/``OFFSET`` query with
the filters in SQL, and one problem's detail (text, chosen and gold answers, every candidate with
its strategy and trace, cost by role, what memory it read and changed) is a handful of keyed
queries. People count problems from 1: ``number`` is ``idx + 1`` everywhere a person reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from egur_core.memory.store import MemoryStore
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import Strategy
from egur_core.strategy.roles import ROLES

PAGE_SIZE = 25
Outcome = Literal["all", "right", "wrong", "ungraded"]
How = Literal["all", "exploited", "explored", "fallback"]

_FALLBACK = "coalesce(ce.rationale ILIKE '%fallback%', false) OR coalesce(cs.created_by = 'fallback', false)"
_OUTCOME = {"all": "true", "right": "p.correct", "wrong": "NOT coalesce(p.correct, true)",
            "ungraded": "p.correct IS NULL"}
_HOW = {"all": "true", "exploited": "p.exploited", "explored": "NOT p.exploited", "fallback": f"({_FALLBACK})"}


class ProblemFilter(BaseModel):
    outcome: Outcome = "all"
    how: How = "all"
    strategy: str | None = None
    search: str | None = None


def _where(flt: ProblemFilter) -> tuple[str, list[Any]]:
    sql = (f"p.run_id = ? AND p.finished_at IS NOT NULL AND {_OUTCOME[flt.outcome]} AND {_HOW[flt.how]} "
           "AND (? IS NULL OR cs.name = ?) AND (? IS NULL OR p.text ILIKE ? OR p.answer ILIKE ?)")
    search = f"%{flt.search}%" if flt.search else None
    return sql, [flt.strategy, flt.strategy, search, search, search]


_FROM = """FROM problems p LEFT JOIN executions ce ON ce.execution_id = p.chosen_execution_id
           LEFT JOIN strategies cs ON cs.hash = p.chosen_strategy_hash"""


def problem_page(store: MemoryStore, run_id: str, flt: ProblemFilter, page: int = 1,
                 page_size: int = PAGE_SIZE) -> tuple[pd.DataFrame, int]:
    """One page (1-based) of the run's finished problems that pass ``flt``, and how many pass it."""
    where, params = _where(flt)
    total = int(store.scalar(f"SELECT count(*) {_FROM} WHERE {where}", [run_id, *params]))
    frame = store.query_df(f"""
        SELECT p.idx + 1 AS number, p.correct, p.answer, cs.name AS strategy, p.exploited,
               ({_FALLBACK}) AS fallback,
               (SELECT count(*) FROM executions e WHERE e.run_id = p.run_id AND e.idx = p.idx
                AND NOT coalesce(e.stale, false)) AS candidates,
               p.cost_usd, p.latency_s, left(p.text, 160) AS problem, p.idx
        {_FROM} WHERE {where} ORDER BY p.idx LIMIT ? OFFSET ?""",
                           [run_id, *params, int(page_size), (max(page, 1) - 1) * int(page_size)])
    return frame, total


def strategy_names(store: MemoryStore, run_id: str) -> list[str]:
    """Names of the strategies that answered the run's problems (for the filter), most used first."""
    rows = store.query("""SELECT s.name, count(*) AS n FROM problems p
                          JOIN strategies s ON s.hash = p.chosen_strategy_hash
                          WHERE p.run_id = ? GROUP BY s.name ORDER BY n DESC, s.name""", [run_id])
    return [r["name"] for r in rows if r["name"]]


def has_feedback_source(store: MemoryStore) -> bool:
    """Whether executions record where their feedback came from (label, verifier, agreement, none)."""
    return bool(store.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'executions' "
                             "AND column_name = 'feedback_source'"))


@dataclass(frozen=True)
class Candidate:
    """One candidate the method ran (or the Guide wrote and validation refused) for a problem."""

    number: int
    name: str
    strategy: Strategy | None
    strategy_hash: str | None
    rationale: str
    answer: str | None
    correct: bool | None
    ok: bool
    error: str | None
    chosen: bool
    cost_usd: float
    tokens: int
    calls: int
    latency_s: float
    trace: list[StepTrace] | None
    feedback_source: str | None = None
    rejected: dict[str, Any] | None = None
    """For a strategy that failed validation: the raw reply and its issues."""


@dataclass(frozen=True)
class ProblemDetail:
    run_id: str
    number: int
    problem_id: str
    benchmark: str
    text: str
    answer: str | None
    gold: str | None
    correct: bool | None
    exploited: bool
    error: str | None
    cost_by_role: dict[str, float]
    tokens_by_role: dict[str, int]
    calls: int
    latency_s: float
    candidates: list[Candidate] = field(default_factory=list)
    ops: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cost_usd(self) -> float:
        return sum(self.cost_by_role.values())


def problem_detail(store: MemoryStore, run_id: str, number: int) -> ProblemDetail | None:
    """Problem ``number`` (1-based) of the run in full; None if the run has no such problem."""
    idx = number - 1
    p = store.query_one("SELECT * FROM problems WHERE run_id = ? AND idx = ?", [run_id, idx])
    if p is None:
        return None
    with_source = has_feedback_source(store)
    rows = store.query(f"""
        SELECT e.*, s.name, s.json AS strategy_json{', e.feedback_source AS source' if with_source else ''}
        FROM executions e LEFT JOIN strategies s ON s.hash = e.strategy_hash
        WHERE e.run_id = ? AND e.idx = ? AND NOT coalesce(e.stale, false) ORDER BY e.candidate, e.execution_id""",
                       [run_id, idx])
    ops = store.query("""SELECT op_id, actor, kind, payload, undone_by FROM memory_ops
                         WHERE run_id = ? AND idx = ? ORDER BY op_id""", [run_id, idx])
    retrieved = store.query("""SELECT r.kind, r.item_id, r.rank, r.similarity,
                                      coalesce(l.signature, n.text) AS text
                               FROM retrievals r LEFT JOIN library l ON r.kind = 'entry' AND l.entry_id = r.item_id
                               LEFT JOIN notes n ON r.kind = 'note' AND n.note_id = r.item_id
                               WHERE r.run_id = ? AND r.idx = ? ORDER BY r.kind, r.rank""", [run_id, idx])
    return ProblemDetail(
        run_id=run_id, number=number, problem_id=p["problem_id"] or "", benchmark=p["benchmark"] or "",
        text=p["text"] or "", answer=p["answer"], gold=p["gold"], correct=p["correct"],
        exploited=bool(p["exploited"]), error=p["error"],
        cost_by_role={role: float(p[f"cost_{role}"] or 0) for role in ROLES},
        tokens_by_role={role: int((p[f"tokens_{role}_in"] or 0) + (p[f"tokens_{role}_out"] or 0)) for role in ROLES},
        calls=int(p["calls"] or 0), latency_s=float(p["latency_s"] or 0),
        candidates=[_candidate(r) for r in rows],
        ops=[{**o, "payload": json.loads(o["payload"] or "{}")} for o in ops], retrieved=retrieved)


def _candidate(row: dict[str, Any]) -> Candidate:
    raw_trace = json.loads(row["trace"]) if row["trace"] else None
    rejected = raw_trace if isinstance(raw_trace, dict) else None
    trace = [StepTrace.model_validate(t) for t in raw_trace] if isinstance(raw_trace, list) else None
    strategy = Strategy.model_validate_json(row["strategy_json"]) if row["strategy_json"] else None
    return Candidate(
        number=int(row["candidate"] or 0) + 1, name=row["name"] or "(invalid strategy)", strategy=strategy,
        strategy_hash=row["strategy_hash"], rationale=row["rationale"] or "", answer=row["answer"],
        correct=row["correct"], ok=bool(row["ok"]), error=row["error"], chosen=bool(row["chosen"]),
        cost_usd=float(row["cost_usd"] or 0), tokens=int((row["tokens_in"] or 0) + (row["tokens_out"] or 0)),
        calls=int(row["calls"] or 0), latency_s=float(row["latency_s"] or 0), trace=trace,
        feedback_source=row.get("source"), rejected=rejected)
