"""How much of each role's prompt a provider's prefix cache can serve (issue: throughput and cost).

Runs the loop over real HTTP against the local fake server's ``prefix_cache`` family, which reports
``prompt_tokens_details.cached_tokens`` the way OpenAI does: the longest prefix a prompt shares with an
earlier one, in 128-token blocks, once it is at least 1,024 tokens. The share says how well the prompts put
what is stable (instructions, strategy format, tool and model catalogues) before what changes (memory,
problem). The fake server's replies are the schema's bare minimum, so every problem is answered by the
fallback and the memory stays small: the share measured is the prompts' layout, not a model's behaviour.

    python perf/bench_prompt_cache.py [--n 60] [--benchmark sat3] [--k 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.services import build_client  # noqa: E402
from egur_core.evals.datasets.registry import workload  # noqa: E402
from egur_core.llm.results import CallRecord  # noqa: E402
from egur_core.memory.database import MemoryFile  # noqa: E402
from egur_core.reasoner.loop import EGuRLoop, LoopConfig  # noqa: E402
from egur_core.tools.registry import default_registry  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer, settings_for  # noqa: E402


class PromptTally:
    """Prompt and cached prompt tokens per role, from every call the client made."""

    def __init__(self) -> None:
        self.prompt: dict[str, int] = defaultdict(int)
        self.cached: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(self, record: CallRecord) -> None:
        self.prompt[record.role] += record.usage.prompt_tokens
        self.cached[record.role] += record.usage.cached_prompt_tokens
        self.calls[record.role] += 1


async def measure(args: argparse.Namespace) -> PromptTally:
    tally = PromptTally()
    with FakeOpenAIServer("prefix_cache") as server, tempfile.TemporaryDirectory() as tmp:
        memory = MemoryFile(Path(tmp) / "m.duckdb")
        client = build_client(settings_for(server), on_call=tally, memory=memory)
        try:
            config = LoopConfig(benchmark=args.benchmark, n=args.n, k=args.k, seed=args.seed)
            await EGuRLoop(client, default_registry(), memory).run(
                config, workload(args.benchmark, args.n, args.seed))
        finally:
            await client.aclose()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--benchmark", default="sat3")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tally = asyncio.run(measure(args))
    print(f"{args.benchmark}, {args.n} problems, k={args.k}, seed {args.seed}, fake server 'prefix_cache'")
    print(f"{'role':<14}{'calls':>7}{'prompt tokens':>15}{'cached':>10}{'share':>8}")
    for role in sorted(tally.prompt):
        share = tally.cached[role] / max(tally.prompt[role], 1)
        print(f"{role:<14}{tally.calls[role]:>7}{tally.prompt[role]:>15,}{tally.cached[role]:>10,}{share:>8.0%}")


if __name__ == "__main__":
    main()
