"""The runtime on the real path: openai SDK -> simulated transport, real tools in the sandbox."""

from __future__ import annotations

import asyncio
import time

import pytest

from egur_core.evals.datasets.registry import load_problems, score_prediction
from egur_core.llm import LLMClient, simulated_settings
from egur_core.runtime.engine import Runtime
from egur_core.sim import SimulatedTransport
from egur_core.strategy.model import Strategy
from egur_core.tools.registry import default_registry

FIVE = Strategy.model_validate({"name": "sc5", "steps": [
    {"id": "s", "op": "llm", "prompt": "{problem}", "temperature": 0.7, "n": 5, "out": "xs"},
    {"id": "v", "op": "vote", "from": "xs", "out": "r"}, {"id": "final", "op": "answer", "from": "r"}]})


def run(strategy: Strategy, problems: list[str], *, latency=0.0, honour_n=True, seed=0):
    async def go():
        transport = SimulatedTransport(seed=seed, latency_s=latency, honour_n=honour_n)
        client = LLMClient(simulated_settings(seed=seed), transport=transport)
        try:
            runtime = Runtime(client, default_registry())
            results = []
            for problem in problems:
                started = time.perf_counter()
                results.append((await runtime.execute(strategy, problem), time.perf_counter() - started))
            return results
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("honour_n", [True, False], ids=["one-request", "fan-out"])
def test_five_samples_take_about_one_latency_not_five(honour_n):
    results = run(FIVE, ["warm-up", "What is 2+2?"], latency=0.6, honour_n=honour_n)
    result, seconds = results[-1]
    assert result.ok and result.calls == 5
    assert seconds < 0.6 * 2.5  # one after another would take 0.6 * 5


def test_the_sat_solver_strategy_answers_from_the_real_solver(example_strategies):
    problems = load_problems("sat3", 3, 2)
    strategy = Strategy.model_validate(example_strategies["sat_solver.json"])
    results = run(strategy, [p.text for p in problems])
    assert all(score_prediction(r.answer, p) for (r, _), p in zip(results, problems))
    assert all(r.cost_usd == 0 for r, _ in results)


def test_code_strategy_runs_model_written_code_in_the_sandbox(example_strategies):
    problem = load_problems("bbeh:multistep_arithmetic", 1, 0)[0]
    strategy = Strategy.model_validate(example_strategies["code_then_verify.json"])
    [(result, _)] = run(strategy, [problem.text])
    runs = [t for t in result.trace if t.step_id == "run"]
    assert runs and runs[0].output.startswith("The answer is:")
    assert result.ok and result.tokens_in > 0 and result.cost_usd > 0


def test_the_simulated_model_is_deterministic_for_a_seed(example_strategies):
    strategy = Strategy.model_validate(example_strategies["self_consistency.json"])
    problem = load_problems("bbeh:object_counting", 1, 0)[0].text
    first = run(strategy, [problem], seed=7)[0][0]
    second = run(strategy, [problem], seed=7)[0][0]
    assert first.answer == second.answer and first.tokens_out == second.tokens_out


def test_the_simulated_model_calls_the_solver_natively_and_answers_from_it(example_strategies):
    strategy = Strategy.model_validate(example_strategies["native_tool_agent.json"])
    problems = load_problems("sat3", 4, 5)
    results = [r for r, _ in run(strategy, [p.text for p in problems])]
    solved = [r for r in results if r.trace[0].tool_calls and r.trace[0].tool_calls[0].tool == "sat_solver"]
    assert solved and all(r.trace[0].detail["tool_mode"] == "native" for r in results)
    assert all(score_prediction(r.answer, p) for r, p in zip(results, problems) if r in solved)


def test_the_heterogeneous_vote_runs_on_the_simulated_model(example_strategies):
    strategy = Strategy.model_validate(example_strategies["heterogeneous_vote.json"])
    problem = load_problems("bbeh:multistep_arithmetic", 1, 0)[0]
    [(result, _)] = run(strategy, [problem.text])
    calculated = next(t for t in result.trace if t.step_id == "calculate")
    assert result.ok and calculated.ok and result.cost_usd > 0
