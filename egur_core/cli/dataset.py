"""``egur dataset``: add your own problems (JSONL, CSV, Parquet) to the memory file, list, show, remove them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from egur_core.app.datasets import add_file, dataset_rows, remove, stored_datasets
from egur_core.app.services import open_memory
from egur_core.cli.common import add_db_option, print_table
from egur_core.evals.datasets.files import ANSWER_COLUMNS, PROBLEM_COLUMNS
from egur_core.evals.datasets.scorers import SCORER_KINDS, parse_scorer
from egur_core.evals.datasets.stored import DatasetSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dataset", help="your own datasets: add, list, show, remove")
    commands = parser.add_subparsers(dest="dataset_command", required=True)
    add = commands.add_parser("add", help="store a JSONL, CSV or Parquet file of problems in the memory file")
    add.add_argument("file", help="a .jsonl, .csv or .parquet file with one problem per row")
    add.add_argument("--name", required=True, help="what to call it in `egur run --benchmark NAME`")
    add.add_argument("--scorer", default="exact",
                     help=f"how answers are judged: {', '.join(SCORER_KINDS)}; number:0.01 or number:1%% sets a "
                          "tolerance, choice:ABCD the option letters (default exact)")
    add.add_argument("--rubric", default="", help="for --scorer judge: what makes an answer correct")
    add.add_argument("--problem-col", help=f"the problem column (default: {', '.join(PROBLEM_COLUMNS)})")
    add.add_argument("--answer-col", help=f"the answer column (default: {', '.join(ANSWER_COLUMNS)}; none: label-free)")
    add.add_argument("--id-col", help="the id column (default: id, else the row number)")
    add.add_argument("--format", choices=("jsonl", "csv", "parquet"), help="default: from the extension")
    add.add_argument("--verifier", metavar="FILE.py",
                     help="Python defining check(problem, answer) -> True/False/None; runs in the sandbox")
    add.add_argument("--description", default="")
    add.add_argument("--replace", action="store_true", help="replace a dataset of the same name")
    add.set_defaults(handler=cmd_add)
    listing = commands.add_parser("list", help="datasets in the memory file")
    listing.set_defaults(handler=cmd_list)
    show = commands.add_parser("show", help="a dataset's settings and first rows")
    show.add_argument("name")
    show.add_argument("--rows", type=int, default=5)
    show.set_defaults(handler=cmd_show)
    drop = commands.add_parser("remove", help="delete a dataset (runs made on it are kept)")
    drop.add_argument("name")
    drop.set_defaults(handler=cmd_remove)
    for sub in (add, listing, show, drop):
        add_db_option(sub)


def cmd_add(args: argparse.Namespace) -> int:
    verifier = Path(args.verifier).read_text(encoding="utf-8") if args.verifier else None
    spec = DatasetSpec(name=args.name, scorer=parse_scorer(args.scorer, args.rubric), problem_col=args.problem_col,
                       answer_col=args.answer_col, id_col=args.id_col, format=args.format, verifier=verifier,
                       description=args.description, replace=args.replace)
    with open_memory(args.db).session() as store:
        added = add_file(store, args.file, spec)
    print(f"added {added.name}: {added.summary()} from {added.source} (sha256 {added.content_hash[:12]}); "
          f"problem column '{added.columns.problem}'"
          + (f", answer column '{added.columns.answer}'" if added.columns.answer else ", no answers (label-free)")
          + (f", metadata {', '.join(added.columns.meta)}" if added.columns.meta else ""))
    print(f"run it:  egur run --benchmark {added.name} --db {args.db}\n"
          f"compare: egur bench --benchmark {added.name} --methods egur,cot --db {args.db}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_memory(args.db).session() as store:
        found = stored_datasets(store)
    if not found:
        print("no datasets yet: egur dataset add FILE --name NAME", file=sys.stderr)
        return 0
    print_table(["name", "rows", "scorer", "verifier", "added", "sha256"],
                [[d.name, d.rows, d.scorer.describe() if not d.label_free else "label-free",
                  "yes" if d.verifier else "no", f"{d.created_at:%Y-%m-%d %H:%M}", d.content_hash[:12]]
                 for d in found])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_memory(args.db).session() as store:
        dataset, rows = dataset_rows(store, args.name, args.rows)
    print(f"{dataset.name}: {dataset.summary()}, from {dataset.source} ({dataset.format}), sha256 "
          f"{dataset.content_hash}")
    print_table(["id", "problem", "answer"], [[p.id, _short(p.text), _short(p.answer)] for p in rows])
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with open_memory(args.db).session() as store:
        gone = remove(store, args.name)
    print(f"removed {gone.name} ({gone.rows:,} rows)")
    return 0


def _short(text: str, limit: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
