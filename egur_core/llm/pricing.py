"""Token usage and dollar cost.

Cost is part of EGuR's claim (accuracy *per dollar*), so every call is priced, and every price says
where it came from: the settings when a person set one, else genai-prices' maintained table of list
prices when it knows the model, else the price is unknown (shown as such, never as $0). Cached prompt
tokens are priced at their own rate. Endpoints that omit ``usage`` (some local servers) still get a
cost: tokens are estimated from characters and the usage is flagged ``estimated``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price
from pydantic import BaseModel, Field

from egur_core.strategy.tokens import (  # noqa: F401  (re-exported)
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD_TOKENS,
    estimate_prompt_tokens,
    estimate_tokens,
)


class Usage(BaseModel):
    """Tokens of one or more calls; ``estimated`` when any part was guessed from characters.

    ``cached_prompt_tokens`` are part of ``prompt_tokens`` (served from the provider's prompt cache, billed
    at the cached rate); ``reasoning_tokens`` are part of ``completion_tokens``."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            estimated=self.estimated or other.estimated,
        )


class Price(BaseModel):
    """USD per 1M tokens, and where it came from."""

    input: float | None = None
    output: float | None = None
    cached_input: float | None = Field(None, description="cached prompt tokens; None: the input rate")
    source: Literal["settings", "genai-prices", "unknown"] = "unknown"

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None

    def describe(self) -> str:
        """One line a person reads: "$0.15 in / $0.60 out per 1M (settings)" or "price unknown"."""
        if not self.known:
            return "price unknown"
        cached = f", ${self.cached_input:g} cached" if self.cached_input is not None else ""
        return f"${self.input:g} in / ${self.output:g} out per 1M{cached} ({self.source})"


def sum_usage(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for u in usages:
        total = total + u
    return total




def price_cost(price: Price, usage: Usage) -> float:
    """Dollars for ``usage``; 0 when the price is unknown (check ``price.known``: callers say "unknown")."""
    if not price.known:
        return 0.0
    cached = min(usage.cached_prompt_tokens, usage.prompt_tokens)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    return ((usage.prompt_tokens - cached) * price.input + cached * cached_rate
            + usage.completion_tokens * price.output) / 1_000_000


_LOCAL = re.compile(r"^https?://(localhost|127\.|\[::1\]|0\.0\.0\.0)", re.I)


@lru_cache(maxsize=256)
def list_price(model: str, provider_url: str | None = None) -> Price:
    """The model's list price from genai-prices' table (shipped with the package, never fetched), or unknown.

    A model served from this machine has no list price (what it costs is your hardware), even when a cloud
    provider sells a model of the same name; an unknown URL is matched by the model's name alone."""
    if provider_url and _LOCAL.match(provider_url):
        return Price()
    for url in dict.fromkeys((provider_url, None)):
        try:
            return _genai_price(model, url)
        except LookupError:
            continue
    return Price()


def _genai_price(model: str, provider_url: str | None) -> Price:
    def per_million(**tokens: int) -> float:
        usage = GenaiUsage(**{"input_tokens": 0, "output_tokens": 0, **tokens})
        return float(calc_price(usage, model_ref=model, provider_api_url=provider_url).total_price)

    return Price(input=per_million(input_tokens=1_000_000), output=per_million(output_tokens=1_000_000),
                 cached_input=per_million(input_tokens=1_000_000, cache_read_tokens=1_000_000),
                 source="genai-prices")
