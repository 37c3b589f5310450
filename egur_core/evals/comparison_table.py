"""Bench bookkeeping: the comparison table, copying a run between memory files, finding runs.

The table is computed only from the stored per-problem records (``run_report.problem_records``),
never from in-memory counters, so what the CLI prints, the JSON report and the HTML report all
equal the sums of what is in the database.
"""

from __future__ import annotations

import statistics
from typing import Any

from egur_core.evals.run_records import problem_records, summarise
from egur_core.memory.records import ExecutionRecord, ProblemResult, RunConfig
from egur_core.strategy.roles import METHOD_ROLES, ROLES

_METHOD_ORDER = {m: i for i, m in enumerate(("egur", "static", "sc", "dc", "mem0", "cot"))}
_RESULT_FIELDS = [f for f in ProblemResult.model_fields if f not in ("run_id", "idx", "chosen_execution_id")]


def _clean(value: Any) -> Any:
    """pandas' NaN/NaT/pd.NA back to None (they mean NULL in the row)."""
    try:
        if value is None or value != value:
            return None
    except TypeError:  # pd.NA refuses comparison
        return None
    return value


def copy_run(src: Any, dst: Any, run_id: str, extra_config: dict[str, Any] | None = None) -> None:
    """Copy a run (problems, executions, strategies) between stores through their public API.

    Execution ids are re-issued by the destination, and the chosen execution is re-linked."""
    run = src.get_run(run_id)
    dst.create_run(RunConfig(
        run_id=run_id, benchmark=run["benchmark"], method=run["method"], label=run["label"] or "",
        config={**(run["config"] or {}), **(extra_config or {})}, simulated=bool(run["simulated"]),
        model=run["model"] or "", n_problems=int(run["n_problems"] or 0), k=int(run["k"] or 0),
        seed=int(run["seed"] or 0), comparison_id=run["comparison_id"]))
    for row in src.problem_rows(run_id).to_dict("records"):
        row = {k: _clean(v) for k, v in row.items()}
        idx = int(row["idx"])
        dst.start_problem(run_id, idx, row["problem_id"] or "", row["text"] or "", row["gold"], row["benchmark"])
        chosen = None
        for ex in src.executions_for(run_id, idx):
            new_id = dst.record_execution(ExecutionRecord(
                run_id=run_id, idx=idx, candidate=ex["candidate"] or 0,
                strategy=src.get_strategy(ex["strategy_hash"]) if ex["strategy_hash"] else None,
                rationale=ex["rationale"] or "", answer=ex["answer"], correct=ex["correct"], ok=bool(ex["ok"]),
                error=ex["error"], calls=ex["calls"] or 0, tokens_in=ex["tokens_in"] or 0,
                tokens_out=ex["tokens_out"] or 0, cost_usd=ex["cost_usd"] or 0.0, latency_s=ex["latency_s"] or 0.0,
                trace=ex["trace"], chosen=bool(ex["chosen"]), exploited=bool(ex["exploited"])))
            if ex["execution_id"] == row["chosen_execution_id"]:
                chosen = new_id
        if row["finished_at"] is not None:
            fields = {f: row[f] for f in _RESULT_FIELDS if row.get(f) is not None}
            dst.finish_problem(ProblemResult(run_id=run_id, idx=idx, chosen_execution_id=chosen, **fields))
    dst.set_run_status(run_id, run["status"], run["error"])


def _mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise_runs(runs: list[Any]) -> list[dict[str, Any]]:
    """One row per method (in the order given): means over seeds, the spread of accuracy and cost."""
    rows = []
    for method in dict.fromkeys(r.method for r in runs):
        mine = [r for r in runs if r.method == method]
        acc_mean, acc_sd = _mean_sd([r.summary["accuracy"] for r in mine])
        cost_mean, cost_sd = _mean_sd([r.summary["cost_usd"] for r in mine])
        problems = statistics.fmean(r.summary["problems"] for r in mine)
        tokens = statistics.fmean(sum(r.summary["tokens_by_role"][role] for role in METHOD_ROLES) for r in mine)
        rows.append({
            "method": method, "seeds": [r.seed for r in mine], "problems": problems,
            "accuracy": acc_mean, "accuracy_sd": acc_sd, "cost_usd": cost_mean, "cost_usd_sd": cost_sd,
            "cost_per_problem": cost_mean / problems if problems else 0.0,
            "cost_by_role": {role: statistics.fmean(r.summary["cost_by_role"][role] for r in mine) for role in ROLES},
            "tokens": tokens, "tokens_per_problem": tokens / problems if problems else 0.0,
            "calls": statistics.fmean(r.summary["calls"] for r in mine),
            "cached_calls": statistics.fmean(r.cached_calls for r in mine),
            "spent_usd": statistics.fmean(r.spent_usd for r in mine),
            "wall_s": statistics.fmean(r.wall_s for r in mine),
            "run_ids": [r.run_id for r in mine],
        })
    return rows


def resolve_runs(store: Any, ids: list[str]) -> list[dict[str, Any]]:
    """Run rows for run ids and comparison ids (a comparison expands to its runs), in a stable order."""
    runs: dict[str, dict[str, Any]] = {}
    all_runs = store.list_runs().to_dict("records")
    for ident in ids:
        matched = [r for r in all_runs if ident in (r["run_id"], r["comparison_id"])]
        if not matched:
            raise KeyError(f"no run or comparison {ident!r}")
        for row in sorted(matched, key=lambda r: (_METHOD_ORDER.get(str(r["method"]), 99), str(r["method"]),
                                                  int(r["seed"] or 0), str(r["run_id"]))):
            runs.setdefault(row["run_id"], {k: _clean(v) for k, v in row.items()})
    return list(runs.values())


def run_row(store: Any, run: dict[str, Any]) -> dict[str, Any]:
    """A table row for one stored run (report of arbitrary runs, not only a fresh bench)."""
    s = summarise(problem_records(store, run["run_id"]))
    tokens = sum(s["tokens_by_role"][role] for role in METHOD_ROLES)
    n = s["problems"]
    return {"method": run["method"], "seed": run["seed"], "run_id": run["run_id"], "label": run.get("label") or "",
            "benchmark": run["benchmark"], "problems": n, "accuracy": s["accuracy"], "cost_usd": s["cost_usd"],
            "cost_per_problem": s["cost_per_problem"], "cost_by_role": s["cost_by_role"], "tokens": tokens,
            "tokens_per_problem": tokens / n if n else 0.0, "calls": s["calls"], "exploited": s["exploited"],
            "simulated": bool(run.get("simulated")), "model": run.get("model") or "",
            "price_known": bool(run.get("price_known", True)), "tokens_cached_in": s["tokens_cached_in"],
            "cached_share": s["tokens_cached_in"] / s["prompt_tokens"] if s["prompt_tokens"] else 0.0}


