"""The pipes of one sandbox run: output captured as it arrives, capped, with exit and overflow as events.

No reader tasks: the protocol is fed by the event loop, so a program printing 100 MB costs the host
one capped buffer, and the run is stopped the moment the cap is passed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

STDERR_KEEP = 64_000


@dataclass
class Capture:
    """Bytes from one pipe: keeps the head (stdout) or the tail (stderr, where the exception is)."""

    keep: int
    tail: bool = False
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.tail:
            self.data += chunk
            del self.data[: max(0, len(self.data) - self.keep)]
        elif len(self.data) < self.keep:
            self.data += chunk[: self.keep - len(self.data)]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class Outcome:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    overflow: bool = False


class RunProtocol(asyncio.SubprocessProtocol):
    """Collects both pipes as data arrives (no reader tasks) and signals exit and overflow."""

    def __init__(self, max_output_bytes: int) -> None:
        self.sinks = {1: Capture(max_output_bytes), 2: Capture(STDERR_KEEP, tail=True)}
        self.limit = max_output_bytes
        self.exited, self.overflow, self.closed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        sink = self.sinks[fd]
        sink.add(data)
        if sink.total > self.limit:
            self.overflow.set()

    def process_exited(self) -> None:
        self.exited.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def first(events: list[asyncio.Event], timeout: float) -> bool:
    """Wait until one of ``events`` is set; False on timeout."""
    tasks = [asyncio.create_task(e.wait()) for e in events]
    done, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return bool(done)
