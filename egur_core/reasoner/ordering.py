"""Many problems in flight: who may start, who may commit, and when. Two meanings, chosen per run.

In order (the default, ``ProblemOrder``): with ``parallel`` = W, the problem at position p (in the
run's order) starts, i.e. reads the memory, when the problem at p - W has committed its memory edits;
commits happen in problem order; and a commit waits until the problem W - 1 places further on has
started. So every problem reads the memory left by exactly the commits before position p - W + 1,
whatever the timing: a seed gives the same memory and the same audit log at any speed, and W = 1 is
the sequential loop itself. The price: one slow problem holds the whole window.

As ready (``AsReadyOrder``, opt-in): up to W problems run; each reads the memory as it is when it
starts and commits as soon as it is done, so a slow problem holds nobody and a strategy proven by
any finished problem is exploited at once. What a problem reads then depends on timing: the same
seed need not give the same run, which is why it is not the default.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


class Stopped(Exception):
    """The run stopped (asked to, or failing) before this problem could start."""


class _Gates:
    """What both orders share: the run's size and width, who hears outcomes, and who may stop it."""

    def __init__(self, count: int, parallel: int = 1, on_done: Callable[[Any], None] | None = None,
                 should_stop: Callable[[], bool] | None = None):
        """``on_done`` hears each problem's outcome while it commits; ``should_stop`` is asked before each problem
        starts (a person pressed Stop)."""
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.count, self.parallel = count, parallel
        self.on_done = on_done or (lambda outcome: None)
        self.should_stop = should_stop or (lambda: False)
        self.halted = False

    def done(self, outcome: Any) -> None:
        """Call inside ``committing``: the problem's outcome, heard in commit order."""
        self.on_done(outcome)


class ProblemOrder(_Gates):
    """The gates of one run: ``async with order.starting(p)`` around reading memory, ``async with
    order.committing(p)`` around writing it; outcomes are heard in problem order."""

    def __init__(self, count: int, parallel: int = 1, on_done: Callable[[Any], None] | None = None,
                 should_stop: Callable[[], bool] | None = None):
        super().__init__(count, parallel, on_done, should_stop)
        self._started = [asyncio.Event() for _ in range(count)]
        self._committed = [asyncio.Event() for _ in range(count)]

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

class InOrder:
    """One problem's view of its run's order: ``starting``, ``committing`` and ``done`` for its position."""

    def __init__(self, order: RunOrder, position: int):
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


class AsReadyOrder(_Gates):
    """Up to ``parallel`` problems at once, each reading the memory as it starts and committing when done;
    the same gates as :class:`ProblemOrder`, so the loop does not know which one it runs under."""

    def __init__(self, count: int, parallel: int = 1, on_done: Callable[[Any], None] | None = None,
                 should_stop: Callable[[], bool] | None = None):
        super().__init__(count, parallel, on_done, should_stop)
        self._slots = asyncio.Semaphore(parallel)
        self._commit = asyncio.Lock()

    def halt(self) -> None:
        self.halted = True

    @asynccontextmanager
    async def starting(self, position: int) -> AsyncIterator[None]:
        await self._slots.acquire()  # given back when the problem has committed (or gave up)
        if self.halted or self.should_stop():
            self.halt()
            self._slots.release()
            raise Stopped
        try:
            yield
        except BaseException:
            self._slots.release()
            raise

    @asynccontextmanager
    async def committing(self, position: int) -> AsyncIterator[None]:
        try:
            async with self._commit:  # one commit at a time: outcomes are heard in the order they land
                yield
        finally:
            self._slots.release()


RunOrder = ProblemOrder | AsReadyOrder
"""Either kind of gates: what a problem's ``InOrder`` wraps."""


def problem_order(count: int, parallel: int = 1, *, ordered: bool = True, on_done: Callable[[Any], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> RunOrder:
    """The gates for a run: in problem order (reproducible), or as ready (faster, timing-dependent)."""
    kind = ProblemOrder if ordered or parallel == 1 else AsReadyOrder
    return kind(count, parallel, on_done=on_done, should_stop=should_stop)
