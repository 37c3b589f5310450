"""Wall time and results of ``egur bench`` (all six methods, simulated model) on three benchmarks.

For each benchmark, the same command three times on one fresh memory file:
  1. cache on, cold  (fills the response cache; pays for every call)
  2. cache on, warm  (a replay: every request answered from the cache, $0 spent, same table)
  3. --no-cache      (always calls the model)
and prints each run's table and the wall times.

    python perf/bench_methods.py [--n 30] [--benchmarks sat3,bbeh:object_counting,aime2025] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EGUR = [sys.executable, "-c", "import sys; from egur_core.cli import main; sys.exit(main())"]


def run(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--benchmarks", default="sat3,bbeh:object_counting,aime2025")
    parser.add_argument("--methods", default="egur,cot,sc,dc,mem0,static")
    parser.add_argument("--out", help="folder for the DuckDB files and JSON reports (default: a temp dir)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="egur-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for bench in args.benchmarks.split(","):
        db = out / f"{bench.replace(':', '_')}.duckdb"
        base = [*EGUR, "bench", "--benchmark", bench, "--n", str(args.n), "--methods", args.methods,
                "--db", str(db), "--quiet"]
        times = {}
        for mode, extra in (("cache cold", ["--report", str(db.with_suffix(".json"))]), ("cache warm (replay)", []),
                            ("no cache", ["--no-cache"])):
            wall, table = run(base + extra)
            times[mode] = round(wall, 1)
            print(f"\n## {bench} n={args.n}: {mode}, wall {wall:.1f} s\n{table}", flush=True)
        summary.append({"benchmark": bench, "n": args.n, "wall_s": times})
    print("\n## wall times (s) of the whole command")
    for row in summary:
        print(f"{row['benchmark']:24s} " + "  ".join(f"{k}: {v:6.1f}" for k, v in row["wall_s"].items()))
    (out / "bench_methods.json").write_text(json.dumps(summary, indent=2))
    print(f"\nfiles in {out}")


if __name__ == "__main__":
    main()
