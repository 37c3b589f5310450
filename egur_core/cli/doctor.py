"""``egur doctor``: will EGuR work on this endpoint and model, and if not, why."""

from __future__ import annotations

import argparse
import asyncio
import sys

from egur_core.app.doctor import DoctorReport, diagnose
from egur_core.app.services import build_client, describe_models, open_memory, resolve_settings
from egur_core.cli.common import add_db_option, add_model_options, print_table
from egur_core.llm.modes import MODE_LABELS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="check what an endpoint and model can do for EGuR")
    add_model_options(parser)
    add_db_option(parser)
    parser.add_argument("--role", default="guide", help="which role's model to check (default: guide)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    settings = resolve_settings(args.model, args.base_url, args.config)
    print(describe_models(settings), file=sys.stderr)
    report = asyncio.run(_diagnose(settings, args.db, args.role))
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        _print(report)
    return 0 if report.reachable else 1


async def _diagnose(settings, db: str, role: str) -> DoctorReport:
    client = build_client(settings, memory=open_memory(db))
    try:
        return await diagnose(client, role)
    finally:
        await client.aclose()


def _print(report: DoctorReport) -> None:
    rows = [["endpoint", report.endpoint], ["model", report.model + (" (simulated)" if report.simulated else "")],
            ["reachable", "yes" if report.reachable else f"no: {report.error}"]]
    if report.reachable:
        rows += [["latency", f"{report.latency_s} s"], ["usage reported", "yes" if report.usage_reported else "no"],
                 ["embeddings", "yes" if report.embeddings else "no (a local embedding is used)"]]
        rows += [[f"mode {MODE_LABELS[m.mode]}", ("accepted" + ("" if m.valid_reply else f", reply unusable: "
                                                                 f"{m.detail[:60]}")) if m.accepted
                  else f"refused: {m.detail[:80]}"] for m in report.modes]
        rows += [["schema-constrained decoding", "works" if report.schema_decoding else "not seen"]]
        if report.guide is not None:
            g = report.guide
            rows += [["trial Guide call", f"{g.valid_candidates}/{g.candidates} runnable candidates, "
                      f"{MODE_LABELS.get(g.mode or '', g.mode)} mode, {g.seconds} s, {g.tokens} tokens"]]
            rows += [["  issue", issue[:110]] for issue in g.issues]
            if g.error:
                rows += [["  error", g.error[:110]]]
    print_table(["check", "result"], rows)
    print(f"verdict: {report.verdict()}")
