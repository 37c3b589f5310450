"""Memory files for looking at and timing the dashboard.

    python perf/populate_db.py demo PATH [--n 15]        # egur_core.app.demo: a real comparison, simulated model
    python perf/populate_db.py synthetic PATH [--problems 10000] [--executions 50000]

``demo`` is :func:`egur_core.app.demo.build_demo`: EGuR and a chain-of-thought baseline through the real
comparison harness, offline, so every page has genuine strategies, traces, library entries and notes
to show. ``synthetic`` fills a large, schema-correct file fast: the schema comes from the store's migrations, rows from
pandas frames inserted in bulk by DuckDB (``INSERT ... BY NAME SELECT * FROM frame``), so 10,000
problems and 50,000 executions take seconds. Library entries and notes go through real memory
ops so the audit log is genuine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.demo import build_demo  # noqa: E402
from egur_core.app.services import open_memory  # noqa: E402
from egur_core.memory.database import close_idle_files  # noqa: E402
from egur_core.memory.ops import AddEntry, AddNote  # noqa: E402
from egur_core.memory.records import utcnow  # noqa: E402
from egur_core.memory.store import MemoryStore  # noqa: E402
from egur_core.strategy.model import Strategy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMPARISON = "demo-comparison"


# -- synthetic: bulk rows -------------------------------------------------------------------------
def shipped_strategies() -> list[Strategy]:
    return [Strategy.model_validate_json(p.read_text()) for p in sorted((ROOT / "data/strategies").glob("*.json"))]


def synthetic(path: str | Path, problems: int = 10_000, executions: int = 50_000, runs: int = 20,
              entries: int = 300, notes: int = 100, seed: int = 0) -> dict[str, int]:
    """A large memory file: ``runs`` runs sharing ``problems`` problems and ``executions`` executions."""
    rng = np.random.default_rng(seed)
    strategies = shipped_strategies()
    memory = open_memory(path)
    with memory.session() as store:
        for strategy in strategies:
            store.save_strategy(strategy, created_by="seed")
        run_frame = _runs_frame(runs, problems, rng)
        problem_frame = _problems_frame(run_frame, problems, rng, strategies)
        execution_frame = _executions_frame(problem_frame, executions, rng, strategies)
        with store.transaction():
            for table, frame in (("runs", run_frame), ("problems", problem_frame), ("executions", execution_frame)):
                store.insert_frame(table, frame)
            store.execute("INSERT INTO id_counters VALUES ('executions', ?) ON CONFLICT DO UPDATE SET next_id = "
                          "excluded.next_id", [int(execution_frame["execution_id"].max()) + 1])
        _memory_items(store, strategies, entries, notes, rng)
    close_idle_files()
    return {"runs": runs, "problems": len(problem_frame), "executions": len(execution_frame)}


def _runs_frame(runs: int, problems: int, rng: np.random.Generator) -> pd.DataFrame:
    benchmarks = ["sat3", "bbeh:multistep_arithmetic", "aime2024", "bbeh:word_sorting"]
    methods = ["egur", "egur", "cot", "self_consistency"]
    start = utcnow() - timedelta(days=runs)
    rows = []
    for i in range(runs):
        method = methods[i % len(methods)]
        rows.append({"run_id": f"run-synthetic-{i:03d}", "created_at": start + timedelta(days=i),
                     "benchmark": benchmarks[(i // len(methods)) % len(benchmarks)], "method": method,
                     "label": "", "config": json.dumps({"loop": {"benchmark": "sat3", "n": problems // runs}}),
                     "status": "finished", "simulated": True, "model": "sim-mini",
                     "n_problems": problems // runs, "k": 3 if method == "egur" else 1, "seed": i,
                     "comparison_id": f"cmp-{i // len(methods)}", "error": None})
    return pd.DataFrame(rows)


def _problems_frame(runs: pd.DataFrame, problems: int, rng: np.random.Generator,
                    strategies: list[Strategy]) -> pd.DataFrame:
    per_run = problems // len(runs)
    frames = []
    for _, run in runs.iterrows():
        idx = np.arange(per_run)
        learning = run["method"] == "egur"
        progress = idx / max(per_run - 1, 1)
        p_correct = 0.55 + (0.35 * progress if learning else 0.05)
        exploited = learning & (rng.random(per_run) < 0.8 * progress)
        guide = np.where(exploited | (not learning), 0.0, rng.uniform(0.002, 0.006, per_run))
        frames.append(pd.DataFrame({
            "run_id": run["run_id"], "idx": idx, "problem_id": [f"{run['benchmark']}-{i}" for i in idx],
            "benchmark": run["benchmark"], "text": [f"Synthetic problem {i} of {run['benchmark']}" for i in idx],
            "gold": "42", "status": "finished", "answer": "42", "correct": rng.random(per_run) < p_correct,
            "exploited": exploited, "cost_guide": guide, "cost_executor": rng.uniform(0.0005, 0.003, per_run),
            "cost_consolidator": np.where(exploited | (not learning), 0.0, rng.uniform(0.001, 0.004, per_run)),
            "tokens_guide_in": (guide * 4e5).astype(int), "tokens_guide_out": (guide * 1e5).astype(int),
            "tokens_executor_in": rng.integers(500, 3000, per_run),
            "tokens_executor_out": rng.integers(100, 800, per_run),
            "tokens_consolidator_in": 0, "tokens_consolidator_out": 0, "calls": rng.integers(1, 8, per_run),
            "latency_s": rng.uniform(0.2, 5.0, per_run),
            "started_at": run["created_at"], "finished_at": run["created_at"] + timedelta(minutes=1), "error": None}))
    frame = pd.concat(frames, ignore_index=True)
    frame["cost_usd"] = frame["cost_guide"] + frame["cost_executor"] + frame["cost_consolidator"]
    frame["chosen_strategy_hash"] = [strategies[i % len(strategies)].hash for i in range(len(frame))]
    return frame


def _executions_frame(problems: pd.DataFrame, executions: int, rng: np.random.Generator,
                      strategies: list[Strategy]) -> pd.DataFrame:
    """``executions`` rows spread over the problems; candidate 0 is the chosen one, its strategy
    matching the problem's ``chosen_strategy_hash``."""
    per = np.full(len(problems), executions // len(problems))
    per[: executions - per.sum()] += 1
    owner = np.repeat(np.arange(len(problems)), per)
    candidate = np.concatenate([np.arange(k) for k in per])
    by_hash = {s.hash: s for s in strategies}
    hashes = [problems["chosen_strategy_hash"].iat[o] if c == 0 else strategies[(o + c) % len(strategies)].hash
              for o, c in zip(owner, candidate)]
    traces = {h: json.dumps([{"step_id": step.id, "op": step.op, "latency_s": 0.3, "calls": 1, "cost_usd": 0.0004,
                              "ok": True} for step in by_hash[h].steps]) for h in by_hash}
    frame = pd.DataFrame({
        "execution_id": np.arange(1, len(owner) + 1), "run_id": problems["run_id"].to_numpy()[owner],
        "idx": problems["idx"].to_numpy()[owner], "candidate": candidate, "strategy_hash": hashes,
        "rationale": "synthetic", "answer": "42", "correct": rng.random(len(owner)) < 0.7, "ok": True,
        "error": None, "calls": rng.integers(1, 6, len(owner)), "tokens_in": rng.integers(200, 2000, len(owner)),
        "tokens_out": rng.integers(50, 500, len(owner)), "cost_usd": rng.uniform(0.0001, 0.002, len(owner)),
        "latency_s": rng.uniform(0.1, 3.0, len(owner)), "trace": [traces[h] for h in hashes],
        "chosen": candidate == 0, "exploited": problems["exploited"].to_numpy()[owner],
        "created_at": utcnow(), "stale": False})
    problems["chosen_execution_id"] = frame.loc[frame["chosen"], "execution_id"].to_numpy()
    return frame


def _memory_items(store: MemoryStore, strategies: list[Strategy], entries: int, notes: int,
                  rng: np.random.Generator) -> None:
    """Library entries and notes through real ops (their audit log is what the Memory page shows)."""
    ops = [AddEntry(signature=f"synthetic problem family {i}: {strategies[i % len(strategies)].summary}"[:300],
                    strategy=strategies[i % len(strategies)].to_json_dict(), benchmark="sat3",
                    reason="synthetic") for i in range(entries)]
    ops += [AddNote(text=f"Synthetic lesson {i}: check the constraints before answering.", reason="synthetic")
            for i in range(notes)]
    for start in range(0, len(ops), 100):
        store.apply_many(ops[start:start + 100], "import")
    with store.transaction():
        store.execute("UPDATE library SET uses = 1 + (entry_id * 7) % 40, retrievals = (entry_id * 11) % 90")
        store.execute("UPDATE library SET successes = (uses * 3) // 4")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["demo", "synthetic"])
    parser.add_argument("path")
    parser.add_argument("--n", type=int, default=15, help="demo: problems in the EGuR run")
    parser.add_argument("--problems", type=int, default=10_000)
    parser.add_argument("--executions", type=int, default=50_000)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.mode == "demo":
        print(f"demo run {build_demo(args.path, args.n)}")
    else:
        print(synthetic(args.path, args.problems, args.executions))
    print(f"{args.path}: {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
