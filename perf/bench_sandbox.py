"""Sandbox overhead and concurrency: run with ``python perf/bench_sandbox.py``.

Measures what a strategy pays per python tool call (namespaces, mounts and seccomp by bubblewrap,
interpreter start, cleanup) and how many calls per second fit when many run at once; the median is
the number to compare (target: under 150 ms on the 2-core development machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time

from egur_core.tools.sandbox import isolation_layers, run_python, run_python_async


def _cpu() -> float:
    """CPU seconds used by this process and its finished children (the sandboxes): load-independent."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def sequential(n: int) -> tuple[list[float], float]:
    """Wall seconds of each run, and the mean CPU seconds per run."""
    times, cpu = [], _cpu()
    for _ in range(n):
        start = time.perf_counter()
        assert run_python("print(1)").ok
        times.append(time.perf_counter() - start)
    return times, (_cpu() - cpu) / n


async def concurrent(n: int, width: int) -> float:
    gate = asyncio.Semaphore(width)

    async def one() -> None:
        async with gate:
            assert (await run_python_async("print(sum(range(1000)))")).ok

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--width", type=int, default=8)
    args = parser.parse_args()
    print("isolation layers:", isolation_layers())
    times, cpu = sequential(args.runs)
    ordered = sorted(times)
    print(f"sequential: median {statistics.median(times) * 1000:.0f} ms, p90 "
          f"{ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"per 'print(1)' over {args.runs} runs; CPU {cpu * 1000:.0f} ms per run; load {os.getloadavg()[0]:.1f}")
    total = asyncio.run(concurrent(args.runs * 2, args.width))
    print(f"concurrent: {args.runs * 2} runs, {args.width} at a time: {total:.2f} s "
          f"({args.runs * 2 / total:.1f} runs/s)")


if __name__ == "__main__":
    main()
