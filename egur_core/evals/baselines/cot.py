"""Chain of thought, one sample: the shipped ``chain_of_thought`` strategy, run as is."""

from __future__ import annotations

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig, load_strategy
from egur_core.reasoner.task import Task


class ChainOfThought(Baseline):
    name = "cot"
    strategy_file = "chain_of_thought.json"

    async def attempt(self, problem: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        strategy = load_strategy(self.strategy_file)
        return Attempt(strategy, await self.runtime.execute(strategy, problem.text), rationale="fixed strategy")
