"""Problems in flight: wall time, accuracy and cost at W = 1, 4, 8, 16 (issue: throughput).

The simulated model with a fixed latency per call stands for a real endpoint (where a Guide or
Consolidator call takes seconds); everything else is the real loop on a fresh memory file.

    python perf/bench_parallel.py [--n 60] [--latency 0.5] [--widths 1,4,8,16] [--benchmark sat3] [--seed 1]
                                  [--no-exploit] [--as-ready] [--concurrency 8]

Targets: W = 8 at least 5x faster than W = 1, accuracy within 3 points and cost per problem within 10%.
A problem reads the memory the problems W places before it left, so the wider W, the later a proven
strategy can be exploited: fewer exploits, more exploration (dearer, often more accurate). Where W = 1
exploits early, that lag can cost more time than the concurrency saves; ``--no-exploit`` shows the
concurrency alone. All problems share the settings' cap on model calls at once (``--concurrency``, 8
by default as in the settings), and ``--as-ready`` runs the opt-in order in which each problem reads
the memory as it starts and commits when done. The speed-up column is against the first width given.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.services import build_client  # noqa: E402
from egur_core.evals.datasets.registry import workload  # noqa: E402
from egur_core.evals.metrics import accuracy  # noqa: E402
from egur_core.llm import simulated_settings  # noqa: E402
from egur_core.memory.database import MemoryFile  # noqa: E402
from egur_core.reasoner.loop import EGuRLoop, ExploitRule, LoopConfig  # noqa: E402
from egur_core.tools.registry import default_registry  # noqa: E402


async def one(path: Path, config: LoopConfig, latency: float, concurrency: int = 8) -> tuple[float, list]:
    client = build_client(simulated_settings(seed=config.seed, latency_s=latency).model_copy(
        update={"concurrency": concurrency}))
    loop = EGuRLoop(client, default_registry(), MemoryFile(path))
    started = time.perf_counter()
    try:
        outcomes = await loop.run(config, workload(config.benchmark, config.n, config.seed))
    finally:
        await client.aclose()
    return time.perf_counter() - started, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--widths", default="1,4,8,16")
    parser.add_argument("--benchmark", default="sat3")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="model calls in flight at once (the settings' cap; 8 by default): an endpoint's limit")
    parser.add_argument("--as-ready", action="store_true",
                        help="each problem reads the memory as it starts and commits when done (not in problem "
                             "order: faster, not reproducible)")
    parser.add_argument("--no-exploit", action="store_true",
                        help="every problem explores (isolates the concurrency from the exploitation lag)")
    args = parser.parse_args()
    print(f"{args.benchmark}, n={args.n}, k={args.k}, seed={args.seed}, simulated model at {args.latency} s per call, "
          f"at most {args.concurrency} calls at once{', commits as ready' if args.as_ready else ''}"
          f"{', exploit rule off' if args.no_exploit else ''}")
    print(f"{'W':>3s} {'wall s':>8s} {'speed-up':>9s} {'accuracy':>9s} {'$ / problem':>12s} {'exploited':>10s}")
    base = None
    with tempfile.TemporaryDirectory() as scratch:
        for width in (int(w) for w in args.widths.split(",")):
            config = LoopConfig(benchmark=args.benchmark, n=args.n, k=args.k, seed=args.seed, parallel=width,
                                exploit=ExploitRule(enabled=not args.no_exploit), ordered=not args.as_ready)
            wall, outcomes = asyncio.run(one(Path(scratch) / f"w{width}.duckdb", config, args.latency,
                                             args.concurrency))
            base = base or wall
            cost = sum(o.cost_usd for o in outcomes) / len(outcomes)
            print(f"{width:3d} {wall:8.1f} {base / wall:8.1f}x {accuracy(o.correct for o in outcomes):9.1%} "
                  f"{cost:12.5f} {sum(o.exploited for o in outcomes):10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
