"""Does EGuR answer every problem on endpoints that are not its simulator? (issue: real models)

For each setting below, a fresh memory and one run; per run: problems answered / problems, the
fallback rate, the Guide's validity (runnable candidates / candidates it wrote) per structured
mode, and the Guide's tokens per explored problem.

* ``sim``: the simulated model (its Guide writes compactly, reusing library entries by reference),
* ``sim-full``: the same, but its Guide writes every strategy out in full (what the compact form saves),
* ``fake:<family>``: the local fake server imitating a real server family (its replies are the schema's
  bare minimum, so no candidate is runnable and the fallback answers; this measures the machinery),
* ``real:<url>``: any OpenAI-compatible endpoint, e.g. a llama-cpp-python server on 127.0.0.1.

    python perf/bench_real_models.py [--n 20] [--benchmark sat3] [--real http://127.0.0.1:8080/v1 --model M]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.services import build_client, resolve_settings  # noqa: E402
from egur_core.evals.datasets.registry import workload  # noqa: E402
from egur_core.llm import LLMClient, simulated_settings  # noqa: E402
from egur_core.memory.database import MemoryFile  # noqa: E402
from egur_core.memory.embedding import local_embedding  # noqa: E402
from egur_core.reasoner.loop import EGuRLoop, LoopConfig  # noqa: E402
from egur_core.sim import SimulatedTransport  # noqa: E402
from egur_core.tools.registry import default_registry  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer, settings_for  # noqa: E402

FAMILIES = ["strict", "llama_cpp_python", "llama_cpp_old", "llama_server", "vllm", "ollama", "json_object_only",
            "text_only"]


class Tally:
    """Folds the loop's events into the numbers this script reports."""

    def __init__(self) -> None:
        self.problems = self.answered = self.fallback = 0
        self.by_mode: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # mode -> [runnable, written]

    def __call__(self, event) -> None:
        p = event.payload
        if event.kind == "candidates_proposed" and not p.get("exploited"):
            runnable = 0 if p.get("fallback") else len(p.get("names") or [])
            mode = p.get("mode") or "no reply"
            self.by_mode[mode][0] += runnable
            self.by_mode[mode][1] += runnable + len(p.get("invalid") or [])
        if event.kind == "problem_finished":
            self.problems += 1
            self.answered += p.get("answer") is not None
            self.fallback += bool(p.get("fallback"))


async def one_run(client: LLMClient, path: Path, benchmark: str, n: int) -> tuple[Tally, tuple[float, float]]:
    memory, tally = MemoryFile(path), Tally()
    try:
        loop = EGuRLoop(client, default_registry(), memory, on_event=tally)
        await loop.run(LoopConfig(benchmark=benchmark, n=n, k=3), workload(benchmark, n, 0))
    finally:
        await client.aclose()
    with memory.session() as store:
        rows = store.query("SELECT avg(tokens_guide_in) AS t_in, avg(tokens_guide_out) AS t_out FROM problems "
                           "WHERE NOT exploited AND finished_at IS NOT NULL")
    return tally, (float(rows[0]["t_in"] or 0.0), float(rows[0]["t_out"] or 0.0))


def report(name: str, tally: Tally, guide_tokens: tuple[float, float]) -> None:
    modes = ", ".join(f"{mode} {r}/{w}" for mode, (r, w) in sorted(tally.by_mode.items()))
    fallback = tally.fallback / max(tally.problems, 1)
    print(f"{name:26s} answered {tally.answered}/{tally.problems}  fallback {fallback:5.0%}  Guide runnable/written "
          f"by mode: {modes or '-'}  Guide tokens per explored problem: in {guide_tokens[0]:,.0f}, "
          f"out {guide_tokens[1]:,.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--benchmark", default="sat3")
    parser.add_argument("--real", help="base URL of a real OpenAI-compatible endpoint")
    parser.add_argument("--model", help="the real endpoint's model")
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, compact in (("sim", True), ("sim-full", False)):
            client = LLMClient(simulated_settings(), transport=SimulatedTransport(compact_guide=compact),
                               local_embed=local_embedding)
            report(name, *asyncio.run(one_run(client, folder / f"{name}.duckdb", args.benchmark, args.n)))
        for family in filter(None, args.families.split(",")):
            with FakeOpenAIServer(family) as server:
                client = build_client(settings_for(server))
                report(f"fake:{family}", *asyncio.run(one_run(client, folder / f"{family}.duckdb", args.benchmark,
                                                              min(args.n, 10))))
        if args.real:
            client = build_client(resolve_settings(args.model, args.real))
            report(f"real:{args.model}", *asyncio.run(one_run(client, folder / "real.duckdb", args.benchmark,
                                                                args.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
