"""A run as plain records: what ``egur run --report`` writes and what comparisons read.

One record per problem (index, correct, cost in dollars and tokens by role, exploited, chosen
strategy hash) plus the run's configuration, so a report can be re-checked without the database.
"""

from __future__ import annotations

import json
import math
from typing import Any

from egur_core.evals.metrics import accuracy
from egur_core.strategy.roles import METHOD_ROLES, ROLES


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def problem_records(store, run_id: str) -> list[dict[str, Any]]:
    rows = store.problem_rows(run_id).to_dict("records")
    records = []
    for row in rows:
        if row.get("finished_at") is None:
            continue
        records.append({
            "index": int(row["idx"]), "problem_id": row["problem_id"], "correct": _clean(row["correct"]),
            "exploited": bool(row["exploited"]), "chosen_strategy_hash": _clean(row["chosen_strategy_hash"]),
            "cost_usd": {r: float(row[f"cost_{r}"] or 0.0) for r in ROLES},
            "tokens": {r: {"in": int(row[f"tokens_{r}_in"] or 0), "out": int(row[f"tokens_{r}_out"] or 0)}
                       for r in ROLES},
            "calls": int(row["calls"] or 0), "latency_s": float(row["latency_s"] or 0.0),
            "tokens_cached_in": int(row.get("tokens_cached_in") or 0),
            "tokens_reasoning": int(row.get("tokens_reasoning") or 0),
        })
    return records


def run_report(store, run_id: str) -> dict[str, Any]:
    run = dict(store.get_run(run_id))
    config = run.get("config")
    run["config"] = json.loads(config) if isinstance(config, str) else config
    return {"run": {k: _clean(v) for k, v in run.items()}, "problems": problem_records(store, run_id)}


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    cost_by_role = {r: sum(p["cost_usd"][r] for p in records) for r in ROLES}
    tokens_by_role = {r: sum(p["tokens"][r]["in"] + p["tokens"][r]["out"] for p in records) for r in ROLES}
    total = sum(cost_by_role[r] for r in METHOD_ROLES)  # the judge grades: counted apart
    return {
        "problems": n, "accuracy": accuracy(p["correct"] for p in records) or 0.0,
        "exploited": sum(p["exploited"] for p in records), "cost_usd": total,
        "cost_per_problem": total / n if n else 0.0, "cost_by_role": cost_by_role, "tokens_by_role": tokens_by_role,
        "calls": sum(p["calls"] for p in records),
        "prompt_tokens": sum(p["tokens"][r]["in"] for p in records for r in METHOD_ROLES),
        "tokens_cached_in": sum(p.get("tokens_cached_in", 0) for p in records),
        "tokens_reasoning": sum(p.get("tokens_reasoning", 0) for p in records),
    }
