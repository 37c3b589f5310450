"""Token usage and dollar cost.

Cost is part of EGuR's claim (accuracy *per dollar*), so every call is priced from configuration.
Endpoints that omit ``usage`` (some local servers) still get a cost: tokens are estimated from
characters and the usage is flagged ``estimated`` so charts can say so.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from egur_core.strategy.tokens import (  # noqa: F401  (re-exported)
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD_TOKENS,
    estimate_prompt_tokens,
    estimate_tokens,
)

# USD per 1M tokens (input, output): public list prices at the time of writing. Only used to fill in
# prices a user did not configure (e.g. ``OPENAI_API_KEY`` + ``EGUR_MODEL=gpt-4o``); a config file
# always wins. Unknown models cost 0 and the Settings page shows that.
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "sim-mini": (0.15, 0.60),
    "sim-pro": (2.50, 10.00),
}


class Usage(BaseModel):
    """Tokens of one or more calls; ``estimated`` when any part was guessed from characters."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            estimated=self.estimated or other.estimated,
        )


def sum_usage(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for u in usages:
        total = total + u
    return total




def price_cost(price_in: float, price_out: float, usage: Usage) -> float:
    """Dollars for ``usage`` at prices given in USD per 1M tokens."""
    return (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1_000_000


def known_price(model: str) -> tuple[float, float]:
    """List price for a well-known model name (exact, then longest known prefix), else (0, 0)."""
    if model in KNOWN_PRICES:
        return KNOWN_PRICES[model]
    for name in sorted(KNOWN_PRICES, key=len, reverse=True):
        if model.startswith(name + "-"):  # dated snapshots such as gpt-4o-mini-2024-07-18
            return KNOWN_PRICES[name]
    return (0.0, 0.0)
