"""Runtime overhead and sample overlap (issue: core engine).

1. Overhead per strategy execution with a zero-latency simulated model: everything the runtime
   does around the model (rendering, budget, traces, the openai SDK round trip through the
   in-process transport). Median and p95 over many executions of a 3-step strategy.
2. Overlap ratio: a 5-sample strategy at 200 ms simulated latency, wall time / critical-path
   latency (one call = 200 ms). Measured both when the endpoint honours n (one request) and
   when it ignores n (the client fans out 5 concurrent requests). Target <= 1.2.

    python perf/bench_runtime.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from egur_core.app.services import build_client
from egur_core.llm import LLMClient, simulated_settings
from egur_core.runtime.engine import Runtime
from egur_core.sim import SimulatedTransport
from egur_core.strategy.model import Strategy
from egur_core.tools.registry import default_registry

THREE_STEPS = Strategy.model_validate({"name": "cot-check", "steps": [
    {"id": "think", "op": "llm", "system": "Think step by step.", "prompt": "{problem}", "out": "r"},
    {"id": "check", "op": "verify", "prompt": "Check: {r}. Reply PASS or FAIL", "flag": "ok"},
    {"id": "final", "op": "answer", "from": "r"}]})
FIVE_SAMPLES = Strategy.model_validate({"name": "sc5", "steps": [
    {"id": "s", "op": "llm", "prompt": "{problem}", "temperature": 0.7, "n": 5, "out": "xs"},
    {"id": "v", "op": "vote", "from": "xs", "out": "r"}, {"id": "final", "op": "answer", "from": "r"}]})
PROBLEM = "What is 17 * 23? Think step by step."


async def overhead(runs: int = 300) -> list[float]:
    client = build_client(simulated_settings(seed=0))
    runtime = Runtime(client, default_registry())
    await runtime.execute(THREE_STEPS, PROBLEM)  # warm-up
    times = []
    for i in range(runs):
        started = time.perf_counter()
        result = await runtime.execute(THREE_STEPS, f"{PROBLEM} #{i}")
        times.append(time.perf_counter() - started)
        assert result.ok, result.error
    await client.aclose()
    return times


async def overlap(honour_n: bool, latency: float = 0.2, runs: int = 5) -> list[float]:
    transport = SimulatedTransport(seed=0, latency_s=latency, honour_n=honour_n)
    client = LLMClient(simulated_settings(seed=0), transport=transport)
    runtime = Runtime(client, default_registry(), concurrency=8)
    ratios = []
    for i in range(runs):
        started = time.perf_counter()
        result = await runtime.execute(FIVE_SAMPLES, f"{PROBLEM} #{i}")
        ratios.append((time.perf_counter() - started) / latency)
        assert result.ok and result.calls == 5, result.error
    await client.aclose()
    return ratios


def main() -> None:
    times = sorted(asyncio.run(overhead()))
    p95 = times[int(0.95 * len(times)) - 1]
    median = statistics.median(times) * 1e3
    print(f"overhead per execution (3 steps, 2 model calls, zero latency): median {median:.2f} ms,"
          f" p95 {p95 * 1e3:.2f} ms over {len(times)} runs")
    for honour_n in (True, False):
        ratios = asyncio.run(overlap(honour_n))
        how = "endpoint honours n (1 request)" if honour_n else "endpoint ignores n (5 concurrent requests)"
        print(f"overlap ratio, 5 samples at 200 ms, {how}: median {statistics.median(ratios):.3f}, "
              f"max {max(ratios):.3f} (target <= 1.2)")


if __name__ == "__main__":
    main()
