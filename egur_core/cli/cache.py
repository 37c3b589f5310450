"""``egur cache stats|clear``: see and empty the response cache the bench replays from."""

from __future__ import annotations

import argparse

from egur_core.app.services import open_memory
from egur_core.cli.common import add_db_option, print_table
from egur_core.llm.cache import cache_stats, clear_cache


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cache", help="response cache: stats, clear")
    sub = parser.add_subparsers(dest="cache_command", required=True)
    stats = sub.add_parser("stats", help="cached replies per namespace (method), hits and dollars saved")
    add_db_option(stats)
    stats.set_defaults(handler=cmd_stats)
    clear = sub.add_parser("clear", help="delete cached replies (all, or one namespace)")
    clear.add_argument("--namespace", help="only this namespace (e.g. egur, cot, sc, dc, mem0, static)")
    add_db_option(clear)
    clear.set_defaults(handler=cmd_clear)


def cmd_stats(args: argparse.Namespace) -> int:
    with open_memory(args.db).session() as store:
        rows = cache_stats(store)
    if not rows:
        print(f"the response cache in {args.db} is empty")
        return 0
    print_table(["namespace", "replies", "hits", "recorded $", "saved $", "tokens", "MB", "last written"],
                [[r["namespace"], r["entries"], r["hits"], f"{r['recorded_usd']:.4f}", f"{r['saved_usd']:.4f}",
                  r["tokens"], f"{r['text_bytes'] / 1e6:.2f}", f"{r['last']:%Y-%m-%d %H:%M}"] for r in rows])
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    with open_memory(args.db).session() as store:
        count = clear_cache(store, args.namespace)
    print(f"deleted {count} cached repl{'y' if count == 1 else 'ies'}"
          + (f" in namespace {args.namespace}" if args.namespace else ""))
    return 0
