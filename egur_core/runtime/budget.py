"""What one execution may spend, and the two ways an execution ends early.

A :class:`Meter` counts calls, tokens, dollars, seconds, executed steps and trace text against the
strategy's budget and the runtime's caps, and raises :class:`BudgetExceeded` before a limit is
passed (for dollars: before a model call whose worst case, as the model client prices it, would pass
the limit); a step that cannot produce its output raises :class:`StepFailed`. Both end that execution
only (the engine turns them into a failed result). Steps that never await (``vote`` in a loop) are
held by the wall-clock check the engine makes before every step.
"""

from __future__ import annotations

import time

from egur_core.strategy.model import Strategy

MAX_STEPS_EXECUTED = 2_000  # loop rounds included: 20 rounds of 20 rounds of a 5-step body is already 2,000
MAX_TRACE_CHARS = 2_000_000  # rendered inputs and outputs kept in one execution's trace


class BudgetExceeded(Exception):
    """A strategy tried to spend more calls, tokens, dollars or seconds than its budget allows."""


class StepFailed(Exception):
    """A step could not produce its output; the execution stops here."""

    def __init__(self, step_id: str, message: str):
        self.step_id = step_id
        super().__init__(message)


class Meter:
    """Counts what an execution has spent and refuses to go past its budget."""

    def __init__(self, strategy: Strategy, *, max_steps: int = MAX_STEPS_EXECUTED,
                 max_trace_chars: int = MAX_TRACE_CHARS):
        self.budget = strategy.budget
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.tokens_cached = 0  # of tokens_in, served from the provider's prefix cache
        self.tokens_reasoning = 0  # of tokens_out, spent thinking
        self.cost_usd = 0.0
        self.steps = 0
        self.trace_chars = 0
        self.max_steps, self.max_trace_chars = max_steps, max_trace_chars
        self.deadline = time.perf_counter() + self.budget.max_seconds

    def check_time(self) -> None:
        if time.perf_counter() > self.deadline:
            raise BudgetExceeded(f"budget exceeded: wall time over {self.budget.max_seconds:g} s")

    def count_step(self) -> None:
        """One more step run (each loop round counts its steps again); checked with the clock."""
        self.check_time()
        self.steps += 1
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"budget exceeded: more than {self.max_steps} steps executed "
                                 "(loop rounds included)")

    def add_trace(self, chars: int) -> None:
        self.trace_chars += chars
        if self.trace_chars > self.max_trace_chars:
            raise BudgetExceeded(f"budget exceeded: the trace passed {self.max_trace_chars:,} characters")

    def fit_call(self, prompt_tokens: int, max_tokens: int, n: int) -> int:
        """The ``max_tokens`` to ask for, so that the prompt and every sample fit the tokens left; a call
        whose prompt alone does not fit is refused before it is sent."""
        left = self.remaining_tokens()
        room = (left - prompt_tokens) // max(1, n)
        if room < 1:
            raise BudgetExceeded(f"budget exceeded: a prompt of ~{prompt_tokens:,} tokens and {n} answer(s) cannot "
                                 f"fit the {left:,} tokens left of {self.budget.max_tokens:,}; the call was not sent")
        return min(max_tokens, room)

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

    def add_usage(self, tokens_in: int, tokens_out: int, cost: float, *, cached: int = 0, reasoning: int = 0) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.tokens_cached += cached
        self.tokens_reasoning += reasoning
        self.cost_usd += cost
        if self.tokens_in + self.tokens_out > self.budget.max_tokens:
            raise BudgetExceeded(
                f"budget exceeded: {self.tokens_in + self.tokens_out} tokens used, limit {self.budget.max_tokens}"
            )
        limit = self.budget.max_cost_usd
        if limit is not None and self.cost_usd > limit:  # the prompt estimate was short: stop here
            raise BudgetExceeded(f"budget exceeded: ${self.cost_usd:.6f} spent, limit ${limit:g}")
