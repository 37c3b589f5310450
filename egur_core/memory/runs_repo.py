"""Run records: runs, problems and candidate executions, written as the loop goes.

Writes are small and immediate (one transaction per call) so that a killed run loses at most
the problem in flight: ``finished_indices`` tells a resumed run what to skip, and a problem that
was started but never finished is redone, its earlier executions kept but marked ``stale``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from egur_core.memory.base import StoreBase
from egur_core.memory.records import RUN_STATUSES, ExecutionRecord, ProblemResult, RunConfig, dumps, utcnow
from egur_core.strategy.roles import ROLES

_PROBLEM_RESULT_COLUMNS = [
    "status", "answer", "correct", "exploited", "chosen_execution_id", "chosen_strategy_hash",
    *[f"cost_{role}" for role in ROLES], *[f"tokens_{role}_{way}" for role in ROLES for way in ("in", "out")],
    "calls", "latency_s", "error", "gold", "fallback", "tokens_cached_in", "tokens_reasoning",
]


class RunsMixin(StoreBase):
    _runs_seen: dict[str, dict[str, Any]]  # set by the store

    def create_run(self, config: RunConfig | None = None, /, **fields: Any) -> str:
        """Record a new run (status ``running``); pass a :class:`RunConfig` or its fields."""
        config = config or RunConfig(**fields)
        run_id = config.run_id or f"run-{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
        with self._tx():
            self._db.execute(
                "INSERT INTO runs (run_id, created_at, benchmark, method, label, config, status, simulated, model, "
                "n_problems, k, seed, comparison_id, price_known) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                [run_id, utcnow(), config.benchmark, config.method, config.label, dumps(config.config),
                 config.simulated, config.model, config.n_problems, config.k, config.seed, config.comparison_id,
                 config.price_known])
        return run_id

    def set_run_status(self, run_id: str, status: str, error: str | None = None) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
        with self._tx():
            self._require_run(run_id)
            self._db.execute("UPDATE runs SET status = ?, error = ? WHERE run_id = ?", [status, error, run_id])

    def get_run(self, run_id: str) -> dict[str, Any]:
        """The run row with ``config`` parsed and progress counts; ``KeyError`` if unknown."""
        row = self._require_run(run_id)
        stats = self._row(
            "SELECT count(*) FILTER (WHERE finished_at IS NOT NULL) AS done, avg(correct::INT) AS accuracy, "
            "sum(cost_usd) AS cost_usd FROM problems WHERE run_id = ?", [run_id])
        return {**row, "config": json.loads(row["config"] or "{}"), **stats}

    def list_runs(self, benchmark: str | None = None, comparison_id: str | None = None) -> pd.DataFrame:
        """Runs, newest first, with problems done, accuracy and total cost."""
        return self._df("""
            SELECT r.run_id, r.created_at, r.benchmark, r.method, r.label, r.status, r.simulated, r.model,
                   r.n_problems, r.k, r.seed, r.comparison_id, r.error, coalesce(r.price_known, true) AS price_known,
                   count(p.finished_at) AS done, avg(p.correct::INT) AS accuracy,
                   coalesce(sum(p.cost_usd), 0) AS cost_usd
            FROM runs r LEFT JOIN problems p USING (run_id)
            WHERE (? IS NULL OR r.benchmark = ?) AND (? IS NULL OR r.comparison_id = ?)
            GROUP BY ALL ORDER BY r.created_at DESC, r.run_id""", [benchmark, benchmark, comparison_id, comparison_id])

    def _require_run(self, run_id: str, columns: str = "*") -> dict[str, Any]:
        """The run's row (only ``columns``: its config JSON is large), or ``KeyError``."""
        row = self._row(f"SELECT {columns} FROM runs WHERE run_id = ?", [run_id])
        if row is None:
            raise KeyError(f"no run {run_id!r}")
        return row

    def start_problem(
        self, run_id: str, idx: int, problem_id: str = "", text: str = "", gold: str | None = None,
        benchmark: str | None = None,
    ) -> None:
        """Mark a problem as in flight. Starting one again (a resumed run) marks its earlier
        executions stale; starting a finished one is a caller bug and raises ``ValueError``.
        (A look and an insert: DuckDB's ``ON CONFLICT`` costs more than both.)"""
        with self._tx():
            benchmark = benchmark or self._run_facts(run_id)["benchmark"]
            existing = self._row("SELECT finished_at FROM problems WHERE run_id = ? AND idx = ?", [run_id, idx])
            if existing and existing["finished_at"] is not None:
                raise ValueError(f"problem {idx} of run {run_id} is already finished")
            if existing:
                self._db.execute("UPDATE executions SET stale = true WHERE run_id = ? AND idx = ?", [run_id, idx])
                self._db.execute("DELETE FROM problems WHERE run_id = ? AND idx = ?", [run_id, idx])
            self._db.execute(
                "INSERT INTO problems (run_id, idx, problem_id, benchmark, text, gold, status, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', ?)", [run_id, idx, problem_id, benchmark, text, gold, utcnow()])

    def record_execution(self, record: ExecutionRecord) -> int:
        """Store one candidate's execution (and its strategy); return ``execution_id``."""
        return self.record_executions([record])[0]

    def record_executions(self, records: Sequence[ExecutionRecord]) -> list[int]:
        """Store candidates' executions (and their strategies) in one statement; return their ids in order."""
        if not records:
            return []
        with self._tx():
            hashes = [self._saved_strategy_of(record) for record in records]
            ids = self._next_ids("executions", "executions", "execution_id", len(records))
            now = utcnow()
            rows = [[execution_id, r.run_id, r.idx, r.candidate, strategy_hash, r.rationale, r.answer, r.correct,
                     r.ok, r.error, r.calls, r.tokens_in, r.tokens_out, r.cost_usd, r.latency_s, dumps(r.trace),
                     r.chosen, r.exploited, now, r.feedback_source]
                    for execution_id, strategy_hash, r in zip(ids, hashes, records)]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?)"] * len(rows))
            self._db.execute(
                "INSERT INTO executions (execution_id, run_id, idx, candidate, strategy_hash, rationale, answer, "
                "correct, ok, error, calls, tokens_in, tokens_out, cost_usd, latency_s, trace, chosen, exploited, "
                f"created_at, stale, feedback_source) VALUES {values}", [v for row in rows for v in row])
        return ids

    def _saved_strategy_of(self, record: ExecutionRecord) -> str | None:
        """The hash of the strategy an execution ran, saved first when the record carries it."""
        if record.strategy is None:
            return record.strategy_hash
        simulated = self._run_is_simulated(record.run_id)
        return self.save_strategy(  # type: ignore[attr-defined]
            record.strategy, record.strategy_parent, record.strategy_origin, record.strategy_made_by,
            simulated and record.strategy_made_by is not None)

    def _run_is_simulated(self, run_id: str) -> bool:
        return bool(self._run_facts(run_id)["simulated"])

    def _run_facts(self, run_id: str) -> dict[str, Any]:
        """What never changes in a run (its benchmark, its model and whether that is simulated), asked for every
        problem, execution and learned item: read once per store. ``KeyError`` for an unknown run."""
        if run_id not in self._runs_seen:
            self._runs_seen[run_id] = self._require_run(run_id, "benchmark, model, simulated")
        return self._runs_seen[run_id]

    def finish_problem(self, result: ProblemResult) -> None:
        """Write a problem's outcome and costs by role; marks the chosen execution."""
        values = [getattr(result, c) for c in _PROBLEM_RESULT_COLUMNS]
        assignments = ", ".join("gold = coalesce(?, gold)" if c == "gold" else f"{c} = ?"
                                for c in _PROBLEM_RESULT_COLUMNS)
        with self._tx():
            if not self._changed(
                    f"UPDATE problems SET {assignments}, cost_usd = ?, finished_at = ? WHERE run_id = ? AND idx = ?",
                    [*values, result.cost_usd, utcnow(), result.run_id, result.idx]):
                raise KeyError(f"problem {result.idx} of run {result.run_id!r} was never started")
            if result.chosen_execution_id is not None:
                self._db.execute("UPDATE executions SET chosen = (execution_id = ?) WHERE run_id = ? AND idx = ? "
                                 "AND NOT stale", [result.chosen_execution_id, result.run_id, result.idx])

    def finished_indices(self, run_id: str) -> set[int]:
        """Problems a resumed run must skip (finished or failed; in-flight ones are redone)."""
        rows = self._rows("SELECT idx FROM problems WHERE run_id = ? AND finished_at IS NOT NULL", [run_id])
        return {int(r["idx"]) for r in rows}

    def problem_rows(self, run_id: str) -> pd.DataFrame:
        """One row per problem in order, with running accuracy and cumulative cost for charts."""
        return self._df("""
            SELECT *, count(finished_at) OVER w AS seen,
                   avg(correct::INT) OVER w AS running_accuracy, sum(cost_usd) OVER w AS cumulative_cost
            FROM problems WHERE run_id = ?
            WINDOW w AS (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            ORDER BY idx""", [run_id])

    def executions_for(self, run_id: str, idx: int, include_stale: bool = False) -> list[dict[str, Any]]:
        """A problem's candidate executions (``trace`` parsed), in candidate order."""
        rows = self._rows(
            "SELECT * FROM executions WHERE run_id = ? AND idx = ? AND (? OR NOT stale) "
            "ORDER BY stale DESC, candidate, execution_id", [run_id, idx, include_stale])
        return [{**r, "trace": json.loads(r["trace"]) if r["trace"] else None} for r in rows]
