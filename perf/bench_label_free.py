"""Label-free feedback on a benchmark without a verifier: what the loop tells itself, against the truth.

    python perf/bench_label_free.py [--benchmark bbeh:object_counting] [--n 40] [--k 3] [--seed 2]

Prints, for exploited and explored problems apart: how many, their true accuracy (graded by the
label, which the loop never sees in this mode), and the feedback the executions recorded, by source.
Before feedback sources existed, an exploited strategy agreeing with itself was recorded as right.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.services import build_client  # noqa: E402
from egur_core.evals.datasets.registry import workload  # noqa: E402
from egur_core.llm import simulated_settings  # noqa: E402
from egur_core.memory.database import MemoryFile  # noqa: E402
from egur_core.reasoner.loop import EGuRLoop, LoopConfig  # noqa: E402
from egur_core.tools.registry import default_registry  # noqa: E402


async def run(path: Path, config: LoopConfig) -> str:
    client = build_client(simulated_settings(seed=config.seed))
    loop = EGuRLoop(client, default_registry(), MemoryFile(path))
    try:
        run_id = loop.start_run(config)
        await loop.run(config, workload(config.benchmark, config.n, config.seed), run_id)
        return run_id
    finally:
        await client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default="bbeh:object_counting")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    config = LoopConfig(benchmark=args.benchmark, n=args.n, k=args.k, seed=args.seed, label_free=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "m.duckdb"
        run_id = asyncio.run(run(path, config))
        with MemoryFile(path).session() as store:
            rows = store.query("""
                SELECT p.exploited, count(DISTINCT p.idx) AS problems, avg(p.correct::INT) AS true_accuracy,
                       e.feedback_source, count(*) AS executions, avg(e.correct::INT) AS recorded_right
                FROM problems p JOIN executions e ON e.run_id = p.run_id AND e.idx = p.idx AND NOT e.stale
                WHERE p.run_id = ? AND e.strategy_hash IS NOT NULL GROUP BY ALL ORDER BY 1, 4""", [run_id])
    print(f"label-free {args.benchmark}, n={args.n}, k={args.k}, seed={args.seed} (simulated model)")
    print(f"{'problems':10s} {'n':>4s} {'true acc':>9s}  {'feedback source':16s} {'executions':>10s} "
          f"{'recorded right':>15s}")
    for r in rows:
        kind = "exploited" if r["exploited"] else "explored"
        right = "-" if r["recorded_right"] is None else f"{r['recorded_right']:.0%}"
        print(f"{kind:10s} {r['problems']:4d} {r['true_accuracy']:9.0%}  {r['feedback_source']:16s} "
              f"{r['executions']:10d} {right:>15s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
