"""Each baseline on the simulated model, over an in-memory store: what it remembers and uses."""

from __future__ import annotations

import asyncio

import duckdb
import pytest

from egur_core.app.services import build_client
from egur_core.evals.baselines import BASELINES, BaselineConfig
from egur_core.evals.baselines.dc import CHEATSHEET_HEADER, parse_sheet
from egur_core.evals.baselines.mem0 import MEMORIES_HEADER, parse_facts
from egur_core.evals.baselines.memory_tables import cheatsheet_history, count_facts
from egur_core.evals.datasets.registry import workload
from egur_core.evals.run_records import problem_records
from egur_core.llm.config import simulated_settings
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.method import OpenStore
from egur_core.sim import baseline_roles
from egur_core.tools.registry import default_registry

BENCH = "bbeh:object_counting"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


def run_baseline(store: MemoryStore, method: str, n: int = 6, **cfg):
    client = build_client(simulated_settings())
    baseline = BASELINES[method](client, default_registry(), OpenStore(store))
    config = BaselineConfig(benchmark=BENCH, n=n, scope=f"t/{method}", **cfg)

    async def go():
        info = await baseline.prepare(config, workload(BENCH, problems=[]))
        return await baseline.run(config, workload(BENCH, n, 0), info=info)

    return asyncio.run(go())


def llm_inputs(store: MemoryStore, run_id: str) -> list[str]:
    return [next(t["input"] for t in ex["trace"] if t["op"] == "llm")
            for i in range(len(problem_records(store, run_id))) for ex in store.executions_for(run_id, i)]


def test_cheatsheet_grows_and_is_used_in_later_prompts(store):
    run_id = run_baseline(store, "dc", n=6)
    history = cheatsheet_history(store, "t/dc")
    assert len(history) == 6 and [h["version"] for h in history] == list(range(1, 7))
    sizes = [len(h["text"]) for h in history]
    assert sizes[-1] > sizes[0] > 0
    prompts = llm_inputs(store, run_id)
    assert all(p.startswith(CHEATSHEET_HEADER) for p in prompts)
    assert "(empty" in prompts[0]
    assert history[2]["text"].splitlines()[-1][:60] in prompts[3]  # sheet v3 is in problem 4's prompt
    records = problem_records(store, run_id)
    assert all(r["cost_usd"]["consolidator"] > 0 and r["cost_usd"]["guide"] == 0 for r in records)


def test_mem0_facts_are_stored_and_the_nearest_retrieved(store):
    run_id = run_baseline(store, "mem0", n=6)
    assert count_facts(store, "t/mem0") >= 6
    rationales = [store.executions_for(run_id, i)[0]["rationale"] for i in range(6)]
    assert rationales[0] == "retrieved facts: none"
    assert all(r.count("#") == 5 for r in rationales[5:])  # k_facts=5 once enough are stored
    prompts = llm_inputs(store, run_id)
    assert prompts[5].startswith(MEMORIES_HEADER) and "Answered" in prompts[5]


def test_self_consistency_counts_votes(store):
    run_id = run_baseline(store, "sc", n=3, sc_n=4)
    ex = store.executions_for(run_id, 0)[0]
    vote = next(t for t in ex["trace"] if t["op"] == "vote")
    assert sum(int(part.split("×")[1]) for part in vote["detail"]["votes"].split(", ")) == 4
    assert ex["calls"] == 4
    assert problem_records(store, run_id)[0]["cost_usd"]["consolidator"] == 0


def test_cot_is_the_shipped_strategy(store, example_strategies):
    run_id = run_baseline(store, "cot", n=2)
    ex = store.executions_for(run_id, 0)[0]
    assert store.get_strategy(ex["strategy_hash"]).name == example_strategies["chain_of_thought.json"]["name"]
    assert ex["calls"] == 1


def test_static_picks_the_best_warmup_strategy(store):
    warm = workload("sat3", 4, 1)
    client = build_client(simulated_settings())
    baseline = BASELINES["static"](client, default_registry(), OpenStore(store))
    info = asyncio.run(baseline.prepare(BaselineConfig(benchmark="sat3", n=1), warm))
    assert info["chosen"] == "cnf-to-solver"  # the solver is always right on 3-SAT and costs nothing
    assert info["warmup"]["cnf-to-solver"]["accuracy"] == 1.0


def test_label_free_curator_never_sees_the_label(store):
    run_baseline(store, "dc", n=3, label_free=True)
    assert all("(unchecked)" in h["text"] for h in cheatsheet_history(store, "t/dc"))


def test_bad_replies_keep_memory_intact():
    assert parse_sheet("no tags here", "old sheet", 100) == "old sheet"
    assert parse_sheet("<cheatsheet>new</cheatsheet>", "old", 100) == "new"
    assert parse_facts("garbage") == [] and parse_facts('{"facts": ["a"]}') == ["a"]


def test_hint_raises_accuracy_a_little():
    assert baseline_roles.hint_bonus("counting", "x " + baseline_roles.FAMILY_HINTS["counting"]) > 0
    assert baseline_roles.hint_bonus("counting", baseline_roles.FAMILY_HINTS["sat"]) == 0
    assert baseline_roles.HINT_BONUS < 1.0  # far less than changing the method (counting: code vs CoT ~ +0.95)
