"""``egur memory ...``: browse, prune, export, import and undo memory from the shell.

Every command opens the memory file for just its own work (``MemoryFile.session``), so it can run
while a dashboard has the same file open: it waits for the dashboard's session to end. Output is a
plain table on stdout; a failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from egur_core.app.services import DEFAULT_DB, default_db
from egur_core.memory.database import MemoryFile
from egur_core.memory.records import PruneRule

_WIDTH = 60


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=f"memory file (default $EGUR_DB, else {DEFAULT_DB})")
    common.add_argument("--wait", type=float, default=argparse.SUPPRESS,
                        help="seconds to wait while another process holds the file (default 30)")
    group = subparsers.add_parser("memory", parents=[common], help="browse and curate the experience memory")
    sub = group.add_subparsers(dest="memory_command", required=True)

    p = sub.add_parser("list", parents=[common], help="library entries (or notes) with their stats")
    p.add_argument("--notes", action="store_true", help="list notes instead of library entries")
    p.add_argument("--search", help="case-insensitive text filter")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", parents=[common], help="one library entry: stats, strategy, provenance")
    p.add_argument("entry_id", type=int)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("prune", parents=[common], help="delete unpinned items matching ALL given criteria")
    p.add_argument("--notes", action="store_true", help="prune notes instead of library entries")
    p.add_argument("--max-success-rate", type=float)
    p.add_argument("--min-uses", type=int)
    p.add_argument("--older-than-days", type=float)
    p.add_argument("--never-retrieved", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_prune)

    p = sub.add_parser("export", parents=[common], help="write memory to FILE (.json, or .zip of Parquet)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", parents=[common], help="add memory from FILE to yours (merge; --replace asks first)")
    p.add_argument("file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--merge", action="store_true", help="add the file's entries and notes to yours (the default)")
    mode.add_argument("--replace", action="store_true",
                      help="swap your library and notes for the file's (asks first; undoable as one batch)")
    p.add_argument("--yes", action="store_true", help="replace without asking")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("undo", parents=[common], help="undo an op (by id) or a whole batch (by batch id)")
    p.add_argument("target", help="an op id from `egur memory log`, or a batch id such as import-...")
    p.set_defaults(handler=cmd_undo)

    p = sub.add_parser("log", parents=[common], help="the audit log of memory changes, newest first")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--actor", choices=["consolidator", "person", "import", "loop"])
    p.set_defaults(handler=cmd_log)


def _memory(args: argparse.Namespace) -> MemoryFile:
    """``--db``/``--wait`` may come before or after the subcommand, so they have no argparse default."""
    return MemoryFile(getattr(args, "db", default_db()), wait_s=getattr(args, "wait", 30.0))


def _print_table(df: pd.DataFrame, empty: str) -> None:
    if df.empty:
        print(empty)
        return
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_string_dtype(shown[col]) or shown[col].dtype == object:
            shown[col] = shown[col].map(lambda v: v if not isinstance(v, str) else " ".join(v.split()))
        if pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M")
    shown = shown.astype(object).where(shown.notna(), "-")
    print(shown.to_string(index=False, max_colwidth=_WIDTH, na_rep="-", float_format=lambda x: f"{x:.3g}"))


def cmd_list(args: argparse.Namespace) -> int:
    with _memory(args).session() as store:
        if args.notes:
            df = store.list_notes(search=args.search, limit=args.limit)
            cols = ["note_id", "text", "benchmark", "helpful", "harmful", "retrievals", "pinned", "banned"]
        else:
            df = store.list_entries(search=args.search, limit=args.limit)
            cols = ["entry_id", "signature", "strategy_name", "uses", "success_rate", "mean_cost", "retrievals",
                    "pinned", "banned"]
    _print_table(df[cols], "no notes" if args.notes else "no library entries")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _memory(args).session() as store:
        prov = store.entry_provenance(args.entry_id)
        entry = prov["entry"]
        strategy = store.strategy_row(entry["strategy_hash"])["json"] if entry else None
    if entry is None:
        print(f"entry {args.entry_id} is deleted; its history:")
    else:
        for key in ("entry_id", "signature", "benchmark", "strategy_name", "strategy_hash", "uses", "successes",
                    "success_rate", "mean_cost", "retrievals", "pinned", "banned", "created_at", "last_used_at"):
            value = entry[key] if entry[key] is not None else "-"
            print(f"{key:>14}: {' '.join(str(value).split())}")
        made = prov["created_problem"]
        print(f"{'created by':>14}: " + (f"run {made['run_id']} problem #{made['idx'] + 1}" if made else
                                          (prov["created_by"] or {}).get("actor", "-")))
        print(f"{'retrieved':>14}: {len(prov['retrieved_by'])} time(s)")
        print("strategy:")
        print(json.dumps(strategy, indent=2))
    print("ops:")
    _print_table(_numbered(pd.DataFrame(prov["ops"])), "none")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    rule = PruneRule(kind="notes" if args.notes else "entries", max_success_rate=args.max_success_rate,
                     min_uses=args.min_uses, older_than_days=args.older_than_days,
                     never_retrieved=args.never_retrieved)
    with _memory(args).session() as store:
        preview = store.prune_preview(rule)
        _print_table(preview, "nothing matches; nothing to prune")
        if preview.empty or args.dry_run:
            return 0
        if not args.yes and not _confirm(f"delete these {len(preview)} item(s)?"):
            print("error: not pruned (confirm interactively or pass --yes)", file=sys.stderr)
            return 1
        op_ids = store.prune(rule)
        batch = store.op_log(limit=1)["batch_id"].iloc[0]
    print(f"pruned {len(op_ids)} item(s) as ops {op_ids[0]}..{op_ids[-1]}; undo with: egur memory undo {batch}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_export(args: argparse.Namespace) -> int:
    with _memory(args).session() as store:
        path = store.export_memory(args.file)
        n_entries, n_notes = len(store.list_entries()), len(store.list_notes())
    print(f"exported {n_entries} entries and {n_notes} notes to {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    mode = "replace" if args.replace else "merge"
    if mode == "replace" and not args.yes:
        with _memory(args).session() as store:
            n_entries, n_notes = len(store.list_entries()), len(store.list_notes())
        if not _confirm(f"replace your {n_entries} entries and {n_notes} notes with the file's?"):
            print("error: not imported (confirm interactively or pass --yes; the default --merge keeps yours)",
                  file=sys.stderr)
            return 1
    with _memory(args).session() as store:
        result = store.import_memory(args.file, mode=mode)
    print(f"imported {result.entries} entries, {result.notes} notes, {result.strategies} strategies "
          f"({result.mode}); undo with: egur memory undo {result.batch_id}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    with _memory(args).session() as store:
        if args.target.isdigit():
            undo_id = store.undo(int(args.target))
            print(f"undid op {args.target} (logged as op {undo_id})")
        else:
            ids = store.undo_batch(args.target)
            print(f"undid {len(ids)} op(s) of batch {args.target}")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    with _memory(args).session() as store:
        df = store.op_log(limit=args.limit, actor=args.actor)
    df["what"] = [_describe(p) for p in df["payload"]]
    columns = ["op_id", "ts", "actor", "kind", "what", "run_id", "problem", "undo_of", "undone_by"]
    _print_table(_numbered(df)[columns], "no ops yet")
    return 0


def _numbered(df: pd.DataFrame) -> pd.DataFrame:
    """Problem indices as people count them (#1 is the first), as the dashboard shows them."""
    if "idx" not in df:
        return df
    return df.assign(problem=[None if pd.isna(i) else f"#{int(i) + 1}" for i in df["idx"]]).drop(columns="idx")


def _describe(payload: str | None) -> str:
    data = json.loads(payload) if payload else {}
    ids = [f"{k}={v}" for k, v in data.items() if k.endswith("_id") or k.endswith("_ids") or k == "undo_of"]
    text = data.get("signature") or data.get("text") or data.get("reason") or ""
    return " ".join([*ids, text]).strip()
