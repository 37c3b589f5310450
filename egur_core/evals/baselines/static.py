"""The best fixed strategy: every shipped strategy is tried on a warm-up split, the winner runs alone.

It is the "no adaptation" upper bound: as good as picking one strategy per benchmark in hindsight
(on held-out warm-up problems, never on the evaluated ones). The choice is by warm-up accuracy,
ties going to the cheaper strategy. The warm-up's cost is reported with the run (``info``) and
not added to the per-problem costs, since it is paid once per benchmark, offline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig, library_strategies, load_strategy
from egur_core.reasoner.task import Task, Workload
from egur_core.strategy.model import Strategy


class BestStaticStrategy(Baseline):
    name = "static"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.strategy: Strategy | None = None

    async def prepare(self, config: BaselineConfig, warmup: Workload) -> dict[str, Any]:
        candidates, skipped = library_strategies(set(self.tools.names()), self.llm.settings.known_aliases())
        if not warmup.tasks or warmup.grader is None or not candidates:
            self.strategy = load_strategy("chain_of_thought.json")
            reason = ("no warm-up problems" if not warmup.tasks else "no labels to choose by"
                      if warmup.grader is None else "no valid strategy")
            return {"chosen": self.strategy.name, "reason": reason, "skipped": skipped, "warmup": {}}
        scores = dict(zip(candidates, await asyncio.gather(
            *(self._score(strategy, warmup) for strategy in candidates.values()))))
        best = max(scores, key=lambda name: (scores[name]["accuracy"], -scores[name]["cost_usd"]))
        self.strategy = candidates[best]
        return {"chosen": best, "warmup_problems": [t.id for t in warmup.tasks], "warmup": scores, "skipped": skipped,
                "warmup_cost_usd": sum(s["cost_usd"] for s in scores.values())}

    async def _score(self, strategy: Strategy, warmup: Workload) -> dict[str, float]:
        """Accuracy on the warm-up split, graded there (the warm-up's labels are the static baseline's to use)."""
        results = await asyncio.gather(*(self.runtime.execute(strategy, t.text) for t in warmup.tasks))
        right = sum(r.ok and warmup.grader.grade(t, r.answer or "") for r, t in zip(results, warmup.tasks))
        return {"accuracy": right / len(warmup.tasks), "cost_usd": sum(r.cost_usd for r in results),
                "tokens": sum(r.tokens_in + r.tokens_out for r in results)}

    async def attempt(self, problem: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        if self.strategy is None:
            raise RuntimeError("the static baseline runs prepare() on a warm-up split first")
        result = await self.runtime.execute(self.strategy, problem.text)
        return Attempt(self.strategy, result, rationale="best shipped strategy on the warm-up split")
