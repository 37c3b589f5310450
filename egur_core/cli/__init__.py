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

from pydantic import ValidationError

COMMAND_MODULES = ("strategy", "run", "runs", "memory", "bench", "report", "cache", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egur", description="Experience-guided reasoning (EGuR), headless.")
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
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # `egur ... | head` closed the pipe: not an error worth a traceback
        sys.stderr.close()
        return 0
    except ValidationError as exc:  # a setting out of range: say which and why, without pydantic's links
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        if os.environ.get("EGUR_DEBUG"):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
