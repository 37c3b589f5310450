"""Queries behind the Run and Results pages, aggregated in DuckDB so pages stay fast on big files.

A memory file can hold tens of thousands of problems: the pages never pull whole tables into
pandas. Per-run statistics are one ``GROUP BY``; curves are computed with window functions and
thinned to at most ``max_points`` rows per run before they leave the database (a chart cannot
show more points than it has pixels anyway).

Functions take a :class:`MemoryStore` and read through its per-thread cursor (``_df``), the same
path the store's own queries use, so they are safe from a page while a job thread writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from egur_core.app.progress import ProblemRecord
from egur_core.evals.metrics import accuracy, curve_frame, thin
from egur_core.memory.store import MemoryStore
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import Strategy
from egur_core.strategy.roles import METHOD_ROLES, ROLES

_COST_COLUMNS = [f"cost_{role}" for role in ROLES]
_TOKEN_COLUMNS = [f"tokens_{role}_{way}" for role in ROLES for way in ("in", "out")]
SUMMARY_COLUMNS = ["run", "run_id", "method", "benchmark", "status", "model", "simulated", "comparison_id",
                   "problems", "accuracy", "cost_usd", "cost_per_problem", "tokens", "tokens_per_problem",
                   "exploited_share", *_COST_COLUMNS, "price_known", "prompt_tokens", "tokens_cached", "cached_share"]

_RUN_LABEL = ("r.method || ' · ' || coalesce(nullif(r.label, ''), r.benchmark) || ' · ' || "
              "strftime(r.created_at, '%m-%d %H:%M') || ' · ' || regexp_extract(r.run_id, '[^-]+$')")
"""How a run reads in pickers, legends and tables: method first, so runs of one label stay apart."""
_TOKENS = " + ".join(f"p.tokens_{role}_{way}" for role in METHOD_ROLES for way in ("in", "out"))  # the method's
_PROMPT_TOKENS = " + ".join(f"p.tokens_{role}_in" for role in METHOD_ROLES)
_ROLE_SUMS = ", ".join(f"coalesce(sum(p.{column}), 0) AS {column}" for column in _COST_COLUMNS)


def _query(store: MemoryStore, sql: str, params: list[Any]) -> pd.DataFrame:
    return store.query_df(sql, params)


def run_options(store: MemoryStore) -> pd.DataFrame:
    """Runs for a picker, newest first, with a readable ``run`` label and progress."""
    return _query(store, f"""
        SELECT r.run_id, {_RUN_LABEL} AS run, r.method, r.benchmark, r.status, r.created_at, r.comparison_id,
               r.n_problems, (SELECT count(*) FROM problems p WHERE p.run_id = r.run_id
                              AND p.finished_at IS NOT NULL) AS done
        FROM runs r ORDER BY r.created_at DESC, r.run_id""", [])


def default_selection(runs: pd.DataFrame, comparison: str | None = None, run_id: str | None = None,
                      benchmark: str | None = None) -> list[str]:
    """What Results opens on: the comparison or run just run (from the URL or the session), else the newest
    run (with its comparison, if it has one), never runs of different benchmarks overlaid.

    ``runs`` is :func:`run_options`' frame (newest first); ``benchmark`` restricts the choice."""
    shown = runs if not benchmark else runs[runs["benchmark"] == benchmark]
    if comparison and (shown["comparison_id"] == comparison).any():
        return shown.loc[shown["comparison_id"] == comparison, "run_id"].tolist()
    focus = shown[shown["run_id"] == run_id] if run_id else shown.iloc[0:0]
    newest = (focus if not focus.empty else shown).head(1)
    if newest.empty:
        return []
    row = newest.iloc[0]
    if isinstance(row["comparison_id"], str) and row["comparison_id"]:
        return shown.loc[shown["comparison_id"] == row["comparison_id"], "run_id"].tolist()
    if not focus.empty:
        return [row["run_id"]]
    return shown.loc[shown["benchmark"] == row["benchmark"], "run_id"].head(3).tolist()


def summary(store: MemoryStore, run_ids: list[str]) -> pd.DataFrame:
    """One row per run: accuracy, dollars, tokens, share of problems solved by exploiting memory."""
    frame = _query(store, f"""
        SELECT {_RUN_LABEL} AS run, r.run_id, r.method, r.benchmark, r.status, r.model, r.simulated,
               r.comparison_id, count(p.idx) AS problems, list(p.correct) AS graded,
               coalesce(sum(p.cost_usd), 0) AS cost_usd, sum(p.cost_usd) / nullif(count(p.idx), 0) AS cost_per_problem,
               coalesce(sum({_TOKENS}), 0) AS tokens, sum({_TOKENS}) / nullif(count(p.idx), 0) AS tokens_per_problem,
               avg(p.exploited::INT) AS exploited_share, {_ROLE_SUMS},
               coalesce(r.price_known, true) AS price_known, coalesce(sum({_PROMPT_TOKENS}), 0) AS prompt_tokens,
               coalesce(sum(p.tokens_cached_in), 0) AS tokens_cached,
               sum(p.tokens_cached_in) / nullif(sum({_PROMPT_TOKENS}), 0) AS cached_share
        FROM runs r LEFT JOIN problems p ON p.run_id = r.run_id AND p.finished_at IS NOT NULL
        WHERE list_contains(?::VARCHAR[], r.run_id)
        GROUP BY ALL ORDER BY r.method, run""", [run_ids])
    frame["accuracy"] = frame["graded"].map(lambda graded: accuracy(graded if graded is not None else []))
    return frame[SUMMARY_COLUMNS]


def curves(store: MemoryStore, run_ids: list[str], max_points: int = 1000) -> pd.DataFrame:
    """The curve frame (:func:`egur_core.evals.metrics.curve_frame`) of each run, thinned per run."""
    problems = _query(store, f"""
        SELECT {_RUN_LABEL} AS run, r.method, p.run_id, p.idx, p.correct, p.cost_usd, p.exploited
        FROM problems p JOIN runs r USING (run_id)
        WHERE p.finished_at IS NOT NULL AND list_contains(?::VARCHAR[], p.run_id)
        ORDER BY r.method, run, p.idx""", [run_ids])
    return thin(curve_frame(problems), max_points)


def problems_csv(store: MemoryStore, run_ids: list[str]) -> bytes:
    """Every finished problem of the runs, unthinned, for download (no problem texts: they can be huge)."""
    frame = _query(store, f"""
        SELECT run_id, idx, problem_id, benchmark, answer, gold, correct, exploited, chosen_strategy_hash,
               cost_usd, {', '.join(_COST_COLUMNS + _TOKEN_COLUMNS)}, calls, latency_s, error
        FROM problems WHERE finished_at IS NOT NULL AND list_contains(?::VARCHAR[], run_id)
        ORDER BY run_id, idx""", [run_ids])
    return safe_csv(frame)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV a spreadsheet shows as text: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or CR) gets a
    leading ``'``, so a model-written ``=HYPERLINK(...)`` answer is not run as a formula when the file is opened.
    Every CSV the app offers goes through here."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                          else v)
    return out.to_csv(index=False).encode()


def run_records(store: MemoryStore, run_id: str, last: int | None = None) -> list[ProblemRecord]:
    """A run's finished problems as the live view's records (a reattached tab, a resumed run)."""
    frame = _query(store, f"""
        SELECT p.idx, p.correct, p.cost_usd, p.exploited, p.answer, s.name AS chosen_strategy,
               {', '.join('p.' + c for c in _COST_COLUMNS)}, {_TOKENS} AS tokens,
               {_PROMPT_TOKENS} AS prompt_tokens, p.tokens_cached_in,
               (SELECT list(st.name ORDER BY e.candidate) FROM executions e LEFT JOIN strategies st
                  ON st.hash = e.strategy_hash WHERE e.run_id = p.run_id AND e.idx = p.idx
                  AND NOT coalesce(e.stale, false)) AS candidates
        FROM problems p LEFT JOIN strategies s ON s.hash = p.chosen_strategy_hash
        WHERE p.run_id = ? AND p.finished_at IS NOT NULL
        ORDER BY p.idx DESC {f'LIMIT {int(last)}' if last else ''}""", [run_id])
    return [ProblemRecord(
        idx=int(r["idx"]), correct=None if pd.isna(r["correct"]) else bool(r["correct"]),
        cost_usd=float(r["cost_usd"] or 0), exploited=bool(r["exploited"]), chosen_strategy=r["chosen_strategy"],
        answer=r["answer"], candidates=tuple(n for n in (r["candidates"] if r["candidates"] is not None else [])
                                             if isinstance(n, str)),
        cost_by_role={role: float(r[f"cost_{role}"] or 0) for role in ROLES},
        tokens=int(r["tokens"] or 0), prompt_tokens=int(r["prompt_tokens"] or 0),
        cached_tokens=int(r["tokens_cached_in"] or 0)) for r in frame.to_dict("records")][::-1]


@dataclass(frozen=True)
class RunTotals:
    """The headline numbers of a run, from a job's records or aggregated in SQL for a past run."""

    done: int
    accuracy: float | None
    cost_usd: float
    exploited: int
    prompt_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def of(cls, records: list[ProblemRecord] | tuple[ProblemRecord, ...]) -> RunTotals:
        done = len(records)
        return cls(done, sum(bool(r.correct) for r in records) / done if done else None,
                   sum(r.cost_usd for r in records), sum(r.exploited for r in records),
                   sum(r.prompt_tokens for r in records), sum(r.cached_tokens for r in records))

    @property
    def cached_share(self) -> float | None:
        """Share of prompt tokens the provider served from its prompt cache (billed at the cached rate)."""
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else None


def run_totals(store: MemoryStore, run_id: str) -> RunTotals:
    row = summary(store, [run_id]).iloc[0]
    done = int(row["problems"])
    return RunTotals(done, None if pd.isna(row["accuracy"]) else float(row["accuracy"]), float(row["cost_usd"]),
                     round(float(row["exploited_share"]) * done) if done else 0, int(row["prompt_tokens"]),
                     int(row["tokens_cached"]))


@dataclass(frozen=True)
class ChosenExecution:
    """What the feed draws for a problem: the chosen strategy, its trace, the other candidates."""

    strategy: Strategy
    trace: list[StepTrace]
    rationale: str
    candidates: list[dict[str, Any]]


def chosen_execution(store: MemoryStore, run_id: str, idx: int) -> ChosenExecution | None:
    """The chosen candidate of one problem with its trace; None before the problem finished."""
    rows = _query(store, """
        SELECT e.candidate, e.strategy_hash, s.name, e.answer, e.correct, e.ok, e.error, e.cost_usd, e.chosen,
               e.rationale, e.trace, s.json AS strategy_json
        FROM executions e LEFT JOIN strategies s ON s.hash = e.strategy_hash
        WHERE e.run_id = ? AND e.idx = ? AND NOT coalesce(e.stale, false) ORDER BY e.candidate""",
                  [run_id, idx]).to_dict("records")
    chosen = next((r for r in rows if r["chosen"] and r["strategy_json"]), None)
    if chosen is None:
        return None
    trace = [StepTrace.model_validate(t) for t in json.loads(chosen["trace"] or "[]")]
    others = [{"candidate": r["candidate"], "strategy": r["name"], "answer": r["answer"], "ok": r["ok"],
               "correct": r["correct"], "cost_usd": r["cost_usd"], "chosen": r["chosen"]} for r in rows]
    return ChosenExecution(Strategy.model_validate_json(chosen["strategy_json"]), trace, chosen["rationale"] or "",
                           others)
