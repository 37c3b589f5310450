"""``egur report RUN_OR_COMPARISON...``: a self-contained HTML report to send to someone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from egur_core.app.html_report import build_report
from egur_core.app.services import open_memory
from egur_core.cli.common import add_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write an HTML report (table + curves) of runs or comparisons")
    parser.add_argument("ids", nargs="+", metavar="RUN_OR_COMPARISON", help="run ids and/or comparison ids")
    parser.add_argument("--out", "-o", help="HTML file (default: report-<first id>.html)")
    parser.add_argument("--title", help="report title")
    add_db_option(parser)
    parser.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    out = Path(args.out or f"report-{args.ids[0].replace(':', '_')}.html")
    try:
        with open_memory(args.db).session() as store:
            document = build_report(store, args.ids, args.title)
    except KeyError as exc:
        print(f"error: {exc.args[0]} in {args.db} (`egur runs` lists the runs and comparisons in it)", file=sys.stderr)
        return 2
    out.write_text(document, encoding="utf-8")
    print(f"report: {out} ({out.stat().st_size / 1e6:.1f} MB, works offline)")
    return 0
