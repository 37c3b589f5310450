"""The best fixed strategy: every shipped strategy is tried on a warm-up split, the winner runs alone.

It is the "no adaptation" upper bound: as good as picking one strategy per benchmark in hindsight
(on held-out warm-up problems, never on the evaluated ones). The choice is by warm-up accuracy,
ties going to the cheaper strategy. The warm-up's cost is reported with the run (``info``) and
not added to the per-problem costs, since it is paid once per benchmark, offline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..benchmarks.base import Problem
from ..benchmarks.registry import score_prediction
from ..strategy import Strategy
from .base import Attempt, Baseline, BaselineConfig, library_strategies, load_strategy


class BestStaticStrategy(Baseline):
    name = "static"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.strategy: Strategy | None = None

    async def prepare(self, config: BaselineConfig, warmup: list[Problem]) -> dict[str, Any]:
        candidates, skipped = library_strategies(set(self.tools.names()), self.llm.settings.known_aliases())
        if not warmup or not candidates:
            self.strategy = load_strategy("chain_of_thought.json")
            reason = "no warm-up problems" if not warmup else "no valid strategy"
            return {"chosen": self.strategy.name, "reason": reason, "skipped": skipped, "warmup": {}}
        scores = dict(zip(candidates, await asyncio.gather(
            *(self._score(strategy, warmup) for strategy in candidates.values()))))
        best = max(scores, key=lambda name: (scores[name]["accuracy"], -scores[name]["cost_usd"]))
        self.strategy = candidates[best]
        return {"chosen": best, "warmup_problems": [p.id for p in warmup], "warmup": scores, "skipped": skipped,
                "warmup_cost_usd": sum(s["cost_usd"] for s in scores.values())}

    async def _score(self, strategy: Strategy, problems: list[Problem]) -> dict[str, float]:
        results = await asyncio.gather(*(self.runtime.execute(strategy, p.text) for p in problems))
        right = sum(r.ok and score_prediction(r.answer or "", p) for r, p in zip(results, problems))
        return {"accuracy": right / len(problems), "cost_usd": sum(r.cost_usd for r in results),
                "tokens": sum(r.tokens_in + r.tokens_out for r in results)}

    async def attempt(self, problem: Problem, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        if self.strategy is None:
            raise RuntimeError("the static baseline runs prepare() on a warm-up split first")
        result = await self.runtime.execute(self.strategy, problem.text)
        return Attempt(self.strategy, result, rationale="best shipped strategy on the warm-up split")
