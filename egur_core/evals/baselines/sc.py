"""Self-consistency: n chains of thought at temperature 0.7 and a majority vote.

It is the shipped ``self_consistency`` strategy with its sample count set to ``sc_n`` (budget
scaled to match), so the vote is the runtime's own ``vote`` step and its trace shows the count.
"""

from __future__ import annotations

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig, load_strategy
from egur_core.reasoner.task import Task
from egur_core.strategy.model import Strategy


def self_consistency(n: int) -> Strategy:
    """The shipped SC strategy with ``n`` samples (name and budget follow ``n``)."""
    data = load_strategy("self_consistency.json").to_json_dict()
    per_sample_tokens = data["budget"]["max_tokens"] // max(1, data["steps"][0].get("n", 5))
    data["name"] = f"self-consistency-{n}"
    data["summary"] = f"{n} independent chains of thought at temperature 0.7, majority vote over their answers."
    data["steps"][0]["n"] = n
    data["budget"]["max_calls"] = n + 1
    data["budget"]["max_tokens"] = per_sample_tokens * n
    return Strategy.model_validate(data)


class SelfConsistency(Baseline):
    name = "sc"

    async def attempt(self, problem: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        strategy = self_consistency(config.sc_n)
        result = await self.runtime.execute(strategy, problem.text)
        votes = next((t.detail.get("votes") for t in result.trace if t.op == "vote"), None)
        return Attempt(strategy, result, rationale=f"majority of {config.sc_n} samples", info={"votes": votes})
