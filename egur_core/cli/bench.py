"""``egur bench``: EGuR against the baselines on the same problems, a table, a JSON report, DuckDB rows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from egur_core.app.ownership import LeaseEvents
from egur_core.app.services import build_client, describe_models, open_memory, resolve_settings
from egur_core.cli.common import add_db_option, add_model_options, positive_int, print_table
from egur_core.evals.comparison import METHODS, BenchConfig, BenchResult, run_bench
from egur_core.evals.datasets.registry import benchmark_names
from egur_core.evals.run_records import problem_records
from egur_core.reasoner.events import LoopEvent


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="compare EGuR with baselines on the same problems")
    parser.add_argument("--benchmark", required=True, help=f"one of: {', '.join(benchmark_names())}, or a "
                        "dataset you added (egur dataset list)")
    parser.add_argument("--n", type=positive_int, default=30, help="evaluated problems per seed")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list from {','.join(METHODS)}")
    parser.add_argument("--seeds", help="comma list of seeds (mean and spread); overrides --seed")
    parser.add_argument("--warmup", type=int, default=0, help="warm-up problems before a held-out evaluation")
    parser.add_argument("--static-warmup", type=int, default=10, help="problems the static baseline chooses on")
    parser.add_argument("--k", type=int, default=3, help="EGuR candidates per problem")
    parser.add_argument("--sc-n", type=int, default=5, help="self-consistency samples")
    parser.add_argument("--label-free", action="store_true", help="memories learn without labels")
    parser.add_argument("--no-cache", action="store_true", help="always call the model (no response cache)")
    parser.add_argument("--jobs", type=int, help="runs at once (default: every method concurrently)")
    parser.add_argument("--egur-memory", choices=("fresh", "shared"), default="fresh",
                        help="EGuR starts from an empty memory (default) or the --db file's memory")
    parser.add_argument("--label", default="", help="a name for the evaluated runs")
    parser.add_argument("--report", metavar="FILE.json", help="write the table and every per-problem record")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    add_db_option(parser)
    add_model_options(parser)
    parser.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"error: unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}", file=sys.stderr)
        return 2
    config = BenchConfig(benchmark=args.benchmark, n=args.n, methods=methods, seeds=seeds, warmup=args.warmup,
                         static_warmup=args.static_warmup, k=args.k, sc_n=args.sc_n, label_free=args.label_free,
                         cache=not args.no_cache, jobs=args.jobs, egur_memory=args.egur_memory, label=args.label)
    settings_for = lambda seed: resolve_settings(args.model, args.base_url, args.config, sim_seed=seed)  # noqa: E731
    print(describe_models(settings_for(seeds[0])), file=sys.stderr)
    print(f"bench {args.benchmark}: n={args.n}, methods={','.join(methods)}, seeds={seeds}, "
          f"cache={'off' if args.no_cache else 'on'}", file=sys.stderr)
    memory = open_memory(args.db)
    progress = _Progress(len(methods) * len(seeds), args.quiet)
    leases = LeaseEvents(memory.path, "bench")  # each run is this process's while it goes (see `egur runs`)

    def on_event(method: str, seed: int, event: LoopEvent) -> None:
        leases(event)
        progress(method, seed, event)

    try:
        result = run_bench(memory, settings_for, config, build_client, on_event=on_event)
    finally:
        leases.release()
    print_comparison(result)
    if args.report:
        with memory.session() as store:
            report = bench_report(result, store)
        Path(args.report).write_text(json.dumps(report, indent=2, default=str))
        print(f"report: {args.report}", file=sys.stderr)
    print(f"comparison {result.comparison_id} stored in {args.db}; HTML: egur report {result.comparison_id} "
          f"--db {args.db}", file=sys.stderr)
    return 0


def print_comparison(result: BenchResult, file: Any = None) -> None:
    rows = result.table()
    several = len(result.config.seeds) > 1
    print_table(
        ["method", "accuracy", "$ total", "$/problem", "tokens", "tok/problem", "calls", "cached req", "spent $",
         "wall s"],
        [[r["method"], f"{r['accuracy']:.1%}" + (f" ±{r['accuracy_sd']:.1%}" if several else ""),
          f"{r['cost_usd']:.4f}" + (f" ±{r['cost_usd_sd']:.4f}" if several else ""), f"{r['cost_per_problem']:.5f}",
          f"{r['tokens']:.0f}", f"{r['tokens_per_problem']:.0f}", f"{r['calls']:.0f}", f"{r['cached_calls']:.0f}",
          f"{r['spent_usd']:.4f}", f"{r['wall_s']:.1f}"] for r in rows], file=file)
    if any(r["cached_calls"] for r in rows):
        print("note: costs are list prices of every call, replayed ones included; 'spent $' is what this "
              "invocation paid (cached requests are free); --no-cache calls the model every time",
              file=file or sys.stdout)
    print(f"{len(result.config.seeds)} seed(s) x {result.config.n} problems of {result.config.benchmark}; "
          f"wall {result.wall_s:.1f} s; means over seeds" + (" ± sd" if several else ""), file=file or sys.stdout)


def bench_report(result: BenchResult, store: Any) -> dict[str, Any]:
    """The JSON report: configuration, the table, and every evaluated run's per-problem records."""
    return {"comparison_id": result.comparison_id, "config": result.config.model_dump(), "wall_s": result.wall_s,
            "table": result.table(),
            "runs": [{**run.model_dump(), "problems": problem_records(store, run.run_id)} for run in result.runs]}


class _Progress:
    """One line per finished run; with a terminal, a live line of problems done per run."""

    def __init__(self, total_runs: int, quiet: bool):
        self.quiet, self.total_runs = quiet, total_runs
        self.done: dict[str, int] = {}
        self.finished = 0
        self.live = sys.stderr.isatty()

    def __call__(self, method: str, seed: int, event: LoopEvent) -> None:
        if self.quiet:
            return
        key = f"{method}/s{seed}"
        if event.kind == "problem_finished":
            self.done[key] = self.done.get(key, 0) + 1
            if self.live:
                line = "  ".join(f"{k} {v}" for k, v in self.done.items())
                print(f"\r{line[-150:]}", end="", file=sys.stderr, flush=True)
        elif event.kind == "run_finished":
            self.finished += 1
            prefix = "\n" if self.live else ""
            print(f"{prefix}finished {key} ({event.payload.get('status')}) [{self.finished}]", file=sys.stderr)
