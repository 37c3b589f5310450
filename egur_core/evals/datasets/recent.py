"""Problems of a person's datasets that this process has handed to a run, by their longest line.

The simulated model recognises shipped problems by looking them up; this index lets it recognise
the problems of a stored dataset too, once a run in this process has loaded them (only those, and
at most :data:`MAX_REMEMBERED`), so a demo on your own dataset shows learning on the simulator as it
does on the shipped benchmarks. Nothing else reads it; a real model never sees it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from egur_core.evals.datasets.base import Problem

MAX_REMEMBERED = 50_000
_lock = threading.Lock()
_by_line: OrderedDict[str, list[Problem]] = OrderedDict()
_count = 0
_version = 0


def longest_line(text: str) -> str:
    return max((line.strip() for line in text.splitlines()), key=len, default="")


def remember(problems: Iterable[Problem]) -> None:
    """Index ``problems`` that have an answer (the oldest are forgotten past :data:`MAX_REMEMBERED`)."""
    global _count, _version
    with _lock:
        for problem in (p for p in problems if p.answer):
            key = longest_line(problem.text)
            bucket = _by_line.setdefault(key, [])
            if any(p.id == problem.id and p.benchmark == problem.benchmark for p in bucket):
                continue
            bucket.append(problem)
            _by_line.move_to_end(key)
            _count += 1
        while _count > MAX_REMEMBERED and _by_line:
            _, dropped = _by_line.popitem(last=False)
            _count -= len(dropped)
        _version += 1


def problems_for_line(line: str) -> list[Problem]:
    with _lock:
        return list(_by_line.get(line.strip(), ()))


def version() -> int:
    """Changes whenever the index does (lookups cached by text must not outlive it)."""
    return _version
