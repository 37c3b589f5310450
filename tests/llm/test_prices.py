"""Prices users can trust: each says where it came from; cached prompt tokens are priced at their own rate."""

from __future__ import annotations

import pytest

from egur_core.llm import EndpointConfig, ModelSpec, Settings
from egur_core.llm.pricing import Price, Usage, list_price, price_cost
from egur_core.strategy.roles import ROLES
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm import USER, run_with_client


def test_cached_prompt_tokens_are_billed_at_the_cached_rate():
    price = Price(input=2.0, output=8.0, cached_input=0.5, source="settings")
    usage = Usage(prompt_tokens=1_000_000, cached_prompt_tokens=400_000, completion_tokens=100_000)
    assert price_cost(price, usage) == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0)


def test_a_price_without_a_cached_rate_bills_cached_tokens_as_input():
    price = Price(input=2.0, output=8.0, source="settings")
    assert price_cost(price, Usage(prompt_tokens=1000, cached_prompt_tokens=1000)) == pytest.approx(0.002)


def test_an_unknown_price_costs_nothing_and_says_it_is_unknown():
    price = list_price("a-model-nobody-sells")
    assert not price.known and price.source == "unknown" and price_cost(price, Usage(prompt_tokens=10)) == 0.0


def test_a_price_describes_itself_with_its_source_or_as_unknown():
    assert Price(input=0.15, output=0.6, source="settings").describe() == "$0.15 in / $0.6 out per 1M (settings)"
    assert Price().describe() == "price unknown"


def test_a_blank_price_in_the_settings_falls_back_to_the_list_price():
    settings = Settings(endpoints={"api": EndpointConfig(name="api", base_url="https://api.openai.com/v1")},
                        models={"m": ModelSpec(alias="m", model="gpt-4o-mini", endpoint="api")},
                        roles={role: "m" for role in ROLES})
    assert settings.price_of("m").source == "genai-prices"


def test_the_list_price_comes_from_the_maintained_table():
    price = list_price("gpt-4o-mini")
    assert price.source == "genai-prices" and price.input == pytest.approx(0.15) and price.cached_input < price.input


def test_cached_tokens_reported_by_the_endpoint_are_recorded_apart():
    with FakeOpenAIServer("prefix_cache") as server:
        long_system = [{"role": "system", "content": "Stable instructions. " * 400}]

        async def twice(client):
            await client.chat(long_system + USER, alias="large", role="guide")
            return await client.chat(long_system + [{"role": "user", "content": "Another question?"}],
                                     alias="large", role="guide")

        second = run_with_client(server, twice)
    cached = second.usage.cached_prompt_tokens
    assert cached >= 1024 and cached % 128 == 0 and cached < second.usage.prompt_tokens
