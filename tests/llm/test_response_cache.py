"""The response cache: identical replies on replay, $0 billed for cached calls, off means off."""

from __future__ import annotations

import asyncio

from egur_core.llm import LLMClient
from egur_core.llm.cache import ResponseCache, cache_stats, clear_cache
from egur_core.llm.config import simulated_settings
from egur_core.memory.database import MemoryFile
from egur_core.sim import SimulatedTransport
from egur_core.strategy.sampling import Sampling

MESSAGES = [{"role": "system", "content": "Think step by step."}, {"role": "user", "content": "What is 2+2?"}]


def ask(memory, namespace="t", cache=True, n=1, temperature=0.0, repeats=1):
    records, transport = [], SimulatedTransport()
    rc = ResponseCache(memory, namespace) if cache else None
    client = LLMClient(simulated_settings(), cache=rc, on_call=records.append, transport=transport)

    async def go():
        out = [await client.chat(MESSAGES, alias="small", role="executor",
                                 sampling=Sampling(n=n, temperature=temperature))
               for _ in range(repeats)]
        await client.aclose()
        return out

    results = asyncio.run(go())
    if rc is not None:
        rc.flush()
    return results, records, transport


def test_replay_is_identical_and_billed_zero(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")
    first, rec1, t1 = ask(memory, n=3, temperature=0.7)
    again, rec2, t2 = ask(memory, n=3, temperature=0.7)
    assert t1.requests == 1 and t2.requests == 0  # the replay never reached the model
    assert again[0].texts == first[0].texts and again[0].usage == first[0].usage
    assert [r.cached for r in rec1] == [False] and [r.cached for r in rec2] == [True]
    assert rec1[0].cost_usd > 0 and rec2[0].cost_usd == 0.0  # nothing paid for the cached call
    assert again[0].cost_usd == first[0].cost_usd  # the run still sees the list cost: replays decide alike
    with memory.session() as store:
        (row,) = cache_stats(store)
        assert row["entries"] == 1 and row["hits"] == 1 and row["saved_usd"] == rec1[0].cost_usd


def test_repeated_identical_requests_stay_independent_samples(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")
    _, _, t1 = ask(memory, repeats=3)
    _, rec, t2 = ask(memory, repeats=4)
    assert t1.requests == 3 and t2.requests == 1  # occurrences 1-3 replayed, the 4th is new
    assert [r.cached for r in rec] == [True, True, True, False]


def test_cache_off_really_calls_the_model(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")
    ask(memory)
    _, rec, transport = ask(memory, cache=False)
    assert transport.requests == 1 and not rec[0].cached and rec[0].cost_usd > 0


def test_namespaces_are_separate_and_clearable(tmp_path):
    memory = MemoryFile(tmp_path / "m.duckdb")
    ask(memory, namespace="a")
    _, rec, _ = ask(memory, namespace="b")
    assert not rec[0].cached
    with memory.session() as store:
        assert clear_cache(store, "a") == 1 and [r["namespace"] for r in cache_stats(store)] == ["b"]
