"""Options and output helpers shared by the CLI command groups."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from egur_core.app.services import DEFAULT_DB, default_db


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (default: the offline simulated model)")
    group.add_argument("--model", help="model name for every role (the config file can set roles separately)")
    group.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1")
    group.add_argument("--config", help="settings file (TOML); default $EGUR_CONFIG or ./egur.toml")
    group.add_argument("--seed", type=int, default=0, help="seed (problem order and the simulated model)")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, with a plain message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=default_db(),
                        help=f"memory file (default $EGUR_DB, else {DEFAULT_DB}; the dashboard reads $EGUR_DB too)")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], file=None) -> None:
    """A plain, aligned text table (readable in a terminal and in CI logs)."""
    file = file or sys.stdout
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=file)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=file)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("-", "", 1).replace("$", "", 1).replace("%", "", 1).isdigit()
