"""``egur runs``: the runs in a memory file, newest first, with who is running the live ones.

Runs left "running" by a process that died are marked interrupted on the way (the same rule the
dashboard applies), so the list never shows a dead run as running.
"""

from __future__ import annotations

import argparse

from egur_core.app.ownership import mark_if_interrupted
from egur_core.app.services import open_memory
from egur_core.cli.common import add_db_option, positive_int, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list the runs in the memory file (newest first)")
    parser.add_argument("--benchmark", help="only runs of this benchmark")
    parser.add_argument("--comparison", help="only the runs of this comparison id")
    parser.add_argument("--limit", type=positive_int, default=30, help="at most this many runs (default 30)")
    add_db_option(parser)
    parser.set_defaults(handler=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    memory = open_memory(args.db)
    rows = []
    with memory.session() as store:
        runs = store.list_runs(args.benchmark, args.comparison).head(args.limit)
        for run in runs.to_dict("records"):
            state, owner, run = mark_if_interrupted(store, memory.path, run)
            status = run["status"] + (f" ({owner.kind} pid {owner.pid})" if owner else "")
            if state == "interrupted" or str(run.get("error") or "").startswith("interrupted"):
                status = "interrupted"
            accuracy = "-" if run["accuracy"] != run["accuracy"] or run["accuracy"] is None else \
                f"{run['accuracy']:.1%}"
            rows.append([run["run_id"], f"{run['created_at']:%Y-%m-%d %H:%M}", run["benchmark"], run["method"],
                         status, f"{run['done']}/{run['n_problems'] or '?'}", accuracy, f"{run['cost_usd']:.4f}",
                         run["comparison_id"] or "-"])
    if not rows:
        print(f"no runs in {args.db}; start one with: egur run --benchmark sat3 --n 10 --db {args.db}")
        return 0
    print_table(["run", "created", "benchmark", "method", "status", "done", "accuracy", "$", "comparison"], rows)
    print(f"\nopen one: egur report RUN_ID --db {args.db}  ·  continue one: egur run --resume RUN_ID --db {args.db}")
    return 0
