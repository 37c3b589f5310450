"""Experience says what made it: the simulated model's statistics never stand in for a real model's."""

from __future__ import annotations

import duckdb
import pytest

from egur_core.evals.baselines import BASELINES
from egur_core.memory.records import EGUR_METHODS
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.ask import AskLoop
from egur_core.reasoner.exploit import ExploitRule
from egur_core.reasoner.loop import EGuRLoop, LoopConfig
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

EAGER = ExploitRule(min_similarity=0.5, min_uses=2, min_success_rate=0.5, explore_every=0)


@pytest.fixture(scope="module")
def simulated_memory() -> MemoryStore:
    """A memory that learned on the simulated model until it exploits."""
    store = MemoryStore(duckdb.connect(":memory:"))
    _, outcomes = run_loop(store, LoopConfig(benchmark="sat3", n=20, k=3, seed=1, exploit=EAGER))
    assert any(o.exploited for o in outcomes), "the simulated run should have proven and exploited a strategy"
    return store


def test_what_the_simulated_model_taught_is_marked_simulated(simulated_memory):
    learned = simulated_memory.list_entries().query("origin == 'learned'")
    assert len(learned) and learned["made_simulated"].all() and (learned["made_by_model"] == "sim-mini").all()
    assert (learned["sim_uses"] == learned["uses"]).all()
    assert simulated_memory.list_notes()["made_simulated"].all()


def test_a_real_endpoint_never_exploits_on_simulated_statistics_alone(simulated_memory):
    with FakeOpenAIServer("strict") as server:
        _, outcomes = run_loop(simulated_memory, LoopConfig(benchmark="sat3", n=4, k=2, seed=1, exploit=EAGER),
                               settings=settings_for(server))
    assert len(outcomes) == 4 and not any(o.exploited for o in outcomes)


def test_trusting_simulated_statistics_is_a_choice_a_person_makes(simulated_memory):
    trusting = EAGER.model_copy(update={"trust_simulated": True})
    with FakeOpenAIServer("strict") as server:
        _, outcomes = run_loop(simulated_memory, LoopConfig(benchmark="sat3", n=4, k=2, seed=1, exploit=trusting),
                               settings=settings_for(server))
    assert any(o.exploited for o in outcomes)


def test_an_export_keeps_the_provenance(simulated_memory, tmp_path):
    simulated_memory.export_memory(tmp_path / "m.json")
    fresh = MemoryStore(duckdb.connect(":memory:"))
    fresh.import_memory(tmp_path / "m.json")
    columns = ["entry_id", "origin", "made_by_model", "made_simulated", "sim_uses", "sim_successes"]
    assert fresh.list_entries()[columns].equals(simulated_memory.list_entries()[columns])


def test_egurs_own_methods_are_the_ones_its_statistics_count_and_no_baseline_is_among_them():
    assert set(EGUR_METHODS) == {EGuRLoop.name, AskLoop.name} and not set(EGUR_METHODS) & set(BASELINES)
