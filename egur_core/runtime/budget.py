"""What one execution may spend, and the two ways an execution ends early.

A :class:`Meter` counts calls, tokens and dollars against the strategy's budget and raises
:class:`BudgetExceeded` before a limit is passed (for dollars: before a model call whose worst case,
as the model client prices it, would pass the limit); a step that cannot produce its output raises
:class:`StepFailed`. Both end that execution only (the engine turns them into a failed result).
"""

from __future__ import annotations

from egur_core.strategy.model import Strategy


class BudgetExceeded(Exception):
    """A strategy tried to spend more calls, tokens, dollars or seconds than its budget allows."""


class StepFailed(Exception):
    """A step could not produce its output; the execution stops here."""

    def __init__(self, step_id: str, message: str):
        self.step_id = step_id
        super().__init__(message)


class Meter:
    """Counts what an execution has spent and refuses to go past its budget."""

    def __init__(self, strategy: Strategy):
        self.budget = strategy.budget
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost_usd = 0.0

    def reserve_calls(self, count: int) -> None:
        if self.calls + count > self.budget.max_calls:
            raise BudgetExceeded(
                f"budget exceeded: {self.calls} + {count} calls would pass the limit of {self.budget.max_calls}"
            )
        self.calls += count

    def remaining_tokens(self) -> int:
        left = self.budget.max_tokens - self.tokens_in - self.tokens_out
        if left <= 0:
            raise BudgetExceeded(f"budget exceeded: {self.budget.max_tokens} tokens already spent")
        return left

    def reserve_cost(self, worst_usd: float) -> None:
        """Refuse a model call that could take the spending past ``max_cost_usd`` (nothing is spent yet)."""
        limit = self.budget.max_cost_usd
        if limit is not None and self.cost_usd + worst_usd > limit:
            raise BudgetExceeded(
                f"budget exceeded: the next model call may cost up to ${worst_usd:.6f} and ${self.cost_usd:.6f} "
                f"of the ${limit:g} limit is spent, so it was not made")

    def add_usage(self, tokens_in: int, tokens_out: int, cost: float) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.cost_usd += cost
        if self.tokens_in + self.tokens_out > self.budget.max_tokens:
            raise BudgetExceeded(
                f"budget exceeded: {self.tokens_in + self.tokens_out} tokens used, limit {self.budget.max_tokens}"
            )
        limit = self.budget.max_cost_usd
        if limit is not None and self.cost_usd > limit:  # the prompt estimate was short: stop here
            raise BudgetExceeded(f"budget exceeded: ${self.cost_usd:.6f} spent, limit ${limit:g}")
