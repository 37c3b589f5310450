"""Many problems in flight with the meaning of one at a time: who may start, who may commit, and when.

With ``parallel`` = W, the problem at position p (in the run's order) starts, i.e. reads the memory,
when the problem at p - W has committed its memory edits; commits happen in problem order; and a
commit waits until the problem W - 1 places further on has started. So every problem reads the
memory left by exactly the commits before position p - W + 1, whatever the timing: a seed gives
the same memory and the same audit log at any speed, and W = 1 is the sequential loop itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


class Stopped(Exception):
    """The run stopped (asked to, or failing) before this problem could start."""


class ProblemOrder:
    """The gates of one run: ``async with order.starting(p)`` around reading memory, ``async with
    order.committing(p)`` around writing it."""

    def __init__(self, count: int, parallel: int = 1, on_done: Callable[[Any], None] | None = None,
                 should_stop: Callable[[], bool] | None = None):
        """``on_done`` hears each problem's outcome, in problem order, while it commits; ``should_stop`` is asked
        before each problem starts (a person pressed Stop)."""
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.count, self.parallel = count, parallel
        self.on_done = on_done or (lambda outcome: None)
        self.should_stop = should_stop or (lambda: False)
        self._started = [asyncio.Event() for _ in range(count)]
        self._committed = [asyncio.Event() for _ in range(count)]
        self.halted = False

    def halt(self) -> None:
        """No problem starts from now on; the ones in flight finish (or are abandoned by the caller)."""
        self.halted = True
        for event in (*self._started, *self._committed):  # wake everything waiting, so it can give up
            event.set()

    @asynccontextmanager
    async def starting(self, position: int) -> AsyncIterator[None]:
        if position >= self.parallel:
            await self._committed[position - self.parallel].wait()
        if self.halted or self.should_stop():
            self.halt()
            raise Stopped
        try:
            yield
        finally:
            self._started[position].set()

    @asynccontextmanager
    async def committing(self, position: int) -> AsyncIterator[None]:
        if position > 0:
            await self._committed[position - 1].wait()
        later = position + self.parallel - 1
        if self.parallel > 1 and later < self.count and not self.halted:
            await self._started[later].wait()
        try:
            yield
        finally:
            self._committed[position].set()

    def done(self, outcome: Any) -> None:
        """Call inside ``committing``: the problem's outcome, heard in problem order."""
        self.on_done(outcome)


class InOrder:
    """One problem's view of its run's order: ``starting``, ``committing`` and ``done`` for its position."""

    def __init__(self, order: ProblemOrder, position: int):
        self.order, self.position = order, position

    @classmethod
    def alone(cls) -> InOrder:
        """A problem solved outside any run (a single question): every gate open."""
        return cls(ProblemOrder(1), 0)

    def starting(self):
        return self.order.starting(self.position)

    def committing(self):
        return self.order.committing(self.position)

    def done(self, outcome: Any) -> None:
        self.order.done(outcome)
