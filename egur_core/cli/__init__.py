"""The ``egur`` console script: the same loop and memory tools as the dashboard, headless.

Each command group lives in its own module exposing ``register(subparsers)``; a command handler
returns the process exit code.

Layer: the top; builds everything through ``egur_core.app``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import duckdb
from pydantic import ValidationError

from egur_core.app.services import allow_unsafe_sandbox, sandbox_notice

COMMAND_MODULES = ("strategy", "run", "runs", "memory", "bench", "report", "cache", "doctor", "dataset", "ask")
RUNS_CODE = {"run", "bench", "strategy", "ask", "dataset"}  # they may run model-written code: sandbox banner
STORAGE_HINT = ("the memory file could not be read or written; restore a backup or import an export into a new "
                "file (egur memory import EXPORT.json --db NEW.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egur", description="Experience-guided reasoning (EGuR), headless.")
    parser.add_argument("--unsafe-sandbox", action="store_true",
                        help="on a host without kernel namespaces, run model-written code WITHOUT isolation "
                             "(otherwise code steps are refused)")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"egur_core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"egur_core.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Expected failures (a busy or corrupt file, bad settings, an unreachable endpoint)
    print one clear line; set EGUR_DEBUG=1 to see the traceback instead."""
    args = build_parser().parse_args(argv)
    umask = os.umask(0o077)  # the memory file, its log, exports and reports hold gold answers and traces
    if args.unsafe_sandbox:
        allow_unsafe_sandbox()
    if args.command in RUNS_CODE and (notice := sandbox_notice()):
        print(f"warning: {notice}", file=sys.stderr)
    try:
        return _handle(args)
    finally:
        os.umask(umask)  # an in-process caller (a test, a notebook) gets its own back


def _handle(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # `egur ... | head` closed the pipe: not an error worth a traceback
        sys.stderr.close()
        return 0
    except ValidationError as exc:  # a setting out of range: say which and why, without pydantic's links
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, OSError, RuntimeError, duckdb.Error, MemoryError) as exc:
        if os.environ.get("EGUR_DEBUG"):
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory; nothing was lost that was already saved (try fewer problems, or --resume the run)"
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    message = " ".join(str(message).encode("utf-8", "replace").decode("utf-8").split())
    if isinstance(exc, UnicodeError):
        return f"a file or text is not valid UTF-8 ({message})"
    if isinstance(exc, duckdb.Error):
        return f"{STORAGE_HINT}: {message[:300]}"
    return message


if __name__ == "__main__":
    sys.exit(main())
