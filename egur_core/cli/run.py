"""``egur run``: the EGuR loop on a benchmark, headless, with a progress line and a summary."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path

from egur_core.app.ownership import process_leases
from egur_core.app.services import build_client, build_tools, describe_models, open_memory, resolve_settings
from egur_core.cli.common import add_db_option, add_model_options, positive_int, print_table
from egur_core.evals.datasets.catalog import dataset_record, workload
from egur_core.evals.datasets.registry import benchmark_names
from egur_core.evals.run_records import run_report, summarise
from egur_core.reasoner.events import LoopEvent
from egur_core.reasoner.loop import EGuRLoop, ExploitRule, LoopConfig, call_cap_note
from egur_core.strategy.roles import METHOD_ROLES, ROLES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the EGuR loop on a benchmark")
    parser.add_argument("--benchmark", help=f"one of: {', '.join(benchmark_names())}, or a dataset you added "
                        "(egur dataset list)")
    parser.add_argument("--n", type=positive_int, default=30, help="number of problems")
    parser.add_argument("--k", type=positive_int, default=3, help="candidate strategies per problem (1-8)")
    parser.add_argument("--parallel", type=positive_int, default=1, metavar="W",
                        help="problems in flight at once (each reads the memory as the problems W before it left "
                             "it; edits land in problem order, so a seed gives the same run at any W)")
    parser.add_argument("--as-ready", action="store_true",
                        help="with --parallel: each problem reads the memory as it starts and commits when done, so a "
                             "slow problem holds nobody back; faster, but the same seed may give a different run")
    add_db_option(parser)
    add_model_options(parser)
    parser.add_argument("--resume", metavar="RUN_ID", help="continue a stopped or killed run")
    parser.add_argument("--review", action="store_true", help="queue memory edits for review instead of applying")
    parser.add_argument("--label-free", action="store_true", help="learn from verifiers/agreement, not labels")
    parser.add_argument("--no-exploit", action="store_true", help="always ask the Guide")
    parser.add_argument("--report", metavar="FILE.json", help="write per-problem records and the configuration")
    parser.add_argument("--max-entries", type=int, default=500, help="library size cap (default 500)")
    parser.add_argument("--max-notes", type=int, default=200, help="notes size cap (default 200)")
    parser.add_argument("--quiet", action="store_true", help="no per-problem progress lines")
    parser.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    memory = open_memory(args.db, max_entries=args.max_entries, max_notes=args.max_notes)
    if args.resume:
        with memory.session() as store:
            run = store.get_run(args.resume)
        loop_config = LoopConfig.model_validate(json.loads(run["config"])["loop"]) if isinstance(run["config"], str) \
            else LoopConfig.model_validate(run["config"]["loop"])
    elif not args.benchmark:
        print("error: --benchmark is required (or --resume RUN_ID)", file=sys.stderr)
        return 2
    else:
        loop_config = LoopConfig(benchmark=args.benchmark, n=args.n, k=args.k, seed=args.seed, review=args.review,
                                 label_free=args.label_free, exploit=ExploitRule(enabled=not args.no_exploit),
                                 parallel=args.parallel, ordered=not args.as_ready)
    settings = resolve_settings(args.model, args.base_url, args.config, sim_seed=loop_config.seed)
    print(describe_models(settings), file=sys.stderr)
    if note := call_cap_note(loop_config.parallel, loop_config.k, settings.concurrency):
        print(f"note: {note}", file=sys.stderr)
    progress = _Progress(loop_config.n, quiet=args.quiet, priced=settings.every_role_priced())
    stop = threading.Event()
    try:
        run_id = asyncio.run(_run(settings, memory, loop_config, args.resume, progress, stop))
    except KeyboardInterrupt:
        print(f"\ninterrupted: resume with  egur run --db {args.db} --resume {progress.run_id}", file=sys.stderr)
        return 130
    with memory.session() as store:
        report = run_report(store, run_id)
        evicted = store.evictions(run_id)
    _print_summary(report)
    if evicted["entries"] or evicted["notes"]:
        print(f"note: the size caps evicted {evicted['entries']} library entries and {evicted['notes']} notes "
              f"(least useful, unpinned; --max-entries {args.max_entries}, --max-notes {args.max_notes}); "
              f"see and undo them with: egur memory log --actor loop", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str))
        print(f"report: {args.report}", file=sys.stderr)
    if report["run"]["status"] == "failed":
        print(f"run failed: {report['run']['error']}", file=sys.stderr)
        print(f"fix the endpoint (egur doctor shows what it accepts), then: egur run --db {args.db} "
              f"--resume {run_id}", file=sys.stderr)
        return 1
    return 0


async def _run(settings, memory, config: LoopConfig, resume: str | None, progress, stop) -> str:
    leases = process_leases()
    if resume:
        leases.claim(memory.path, resume, "cli")  # refused while a dashboard or another egur runs it
    client = build_client(settings, memory=memory)
    run_id = resume
    try:
        # an unknown benchmark is refused before any write
        work = workload(config.benchmark, config.n, config.seed, memory=memory, llm=client)
        if len(work) < config.n:
            print(f"note: {config.benchmark} has {len(work)} problems; running {len(work)}, not {config.n}",
                  file=sys.stderr)
            config = config.model_copy(update={"n": len(work)})
        progress.total = len(work)
        if work.grader is None and not config.label_free:
            print(f"{config.benchmark} has no answers: learning label-free (verifier and agreement)", file=sys.stderr)
            config = config.model_copy(update={"label_free": True})
        if config.label_free and work.verifier is None:
            print(f"label-free: {config.benchmark} has no verifier, so candidates learn only from agreement between "
                  "at least two of them; a strategy run alone (k=1, or exploited) teaches nothing", file=sys.stderr)
        loop = EGuRLoop(client, build_tools(), memory, on_event=progress, stop=stop)
        if run_id is None:
            run_id = loop.start_run(config, extra=dataset_record(config.benchmark, memory))
            leases.claim(memory.path, run_id, "cli")
        progress.run_id = run_id
        print(f"run {run_id} on {config.benchmark}: {len(work)} problems, k={config.k}", file=sys.stderr)
        await loop.run(config, work, run_id=run_id)
        return run_id
    finally:
        await client.aclose()
        if run_id is not None:
            leases.release(memory.path, run_id)


class _Progress:
    """Prints one line per finished problem: a progress bar a log file can also read."""

    def __init__(self, total: int, quiet: bool, priced: bool = True):
        self.total, self.quiet, self.run_id, self.priced = total, quiet, "", priced
        self.before = self.done = self.correct = 0  # before: finished before a resume
        self.cost = 0.0

    def __call__(self, event: LoopEvent) -> None:
        if event.kind == "run_started":
            self.before = int(event.payload.get("resumed_after", 0))
        if event.kind != "problem_finished":
            return
        p = event.payload
        self.done += 1
        self.correct += bool(p.get("correct"))
        self.cost += p.get("cost_usd", 0.0)
        if self.quiet:
            return
        width = 24
        finished = self.before + self.done  # problems may finish out of order (--as-ready): count, then name
        filled = int(width * finished / max(self.total, 1))
        mark = "+" if p.get("correct") else "-" if p.get("answer") is not None else "?"
        how = "exploit" if p.get("exploited") else f"{p.get('candidates')} cand"
        why = f"  [{p['note']}]" if p.get("note") else ""
        lost = f"  no answer: {p['failure'][:100]}" if p.get("failure") else ""
        cost = f"${self.cost:.4f}" if self.priced else "price unknown"
        print(f"[{'#' * filled}{'.' * (width - filled)}] {finished}/{self.total} #{event.idx + 1} {mark} "
              f"acc {self.correct / self.done:.0%}  {cost}  {how}: {p.get('chosen_strategy')}{why}{lost}",
              file=sys.stderr)


def _print_summary(report: dict) -> None:
    s = summarise(report["problems"])
    if not report["run"].get("price_known", True):
        print("price unknown: a model this run used has no configured or list price, so no dollars are shown "
              "(set prices in egur.toml or on the Settings page)", file=sys.stderr)
    roles = [r for r in ROLES if r in METHOD_ROLES or s["tokens_by_role"][r]]  # the judge only if one graded
    priced = report["run"].get("price_known", True)

    def dollars(value: float) -> str:
        """A run on a model nobody priced shows "price unknown", never $0 (as the Run page does)."""
        return f"{value:.5f}" if priced else "price unknown"

    print_table(["metric", "value"], [
        ["run", report["run"]["run_id"]],
        ["problems", s["problems"]],
        ["accuracy", f"{s['accuracy']:.1%}"],
        ["exploited / explored", f"{s['exploited']} / {s['problems'] - s['exploited']}"],
        ["cost total $", dollars(s["cost_usd"])],
        ["cost per problem $", dollars(s["cost_per_problem"])],
        *[[f"cost {role} $", dollars(s["cost_by_role"][role])] for role in roles],
        *[[f"tokens {role}", s["tokens_by_role"][role]] for role in roles],
        ["prompt tokens from the provider's cache", f"{s['tokens_cached_in']} "
                                                     f"({s['tokens_cached_in'] / max(s['prompt_tokens'], 1):.0%})"],
        ["reasoning tokens", s["tokens_reasoning"]],
    ])
