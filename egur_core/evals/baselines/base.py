"""What every baseline shares: an online pass over a problem stream, recorded exactly like EGuR.

A baseline is "a fixed strategy, maybe with remembered text pasted into its prompt". So each one
only says which strategy to run on a problem (and with which extra prompt variables), and
optionally how to learn after it; running it (the same :class:`Runtime` EGuR uses), scoring (the
benchmark's official scorer), and recording (the same ``runs``/``problems``/``executions`` rows,
costs split by role) happen here, once, so the comparison with EGuR is like for like.

Cost roles, mapped honestly: running the strategy is ``executor``; a curator or fact extractor
that maintains the memory is ``consolidator``; no baseline has a ``guide``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from egur_core.memory.records import ExecutionRecord, ProblemResult
from egur_core.reasoner.method import Method, ProblemOutcome
from egur_core.reasoner.ordering import InOrder, RunOrder
from egur_core.reasoner.role_calls import UsageTotals
from egur_core.reasoner.task import GradingUsage, Task, Workload, grading_usage
from egur_core.runtime.trace import ExecutionResult
from egur_core.strategy.model import Strategy
from egur_core.strategy.shipped import shipped_strategies, shipped_strategy
from egur_core.strategy.validation import validate_strategy


class BaselineConfig(BaseModel):
    """One baseline run. ``scope`` names the memory (cheatsheet, facts) the run reads and grows."""

    benchmark: str
    n: int = Field(30, ge=1)
    seed: int = 0
    label: str = ""
    comparison_id: str | None = None
    scope: str = ""
    label_free: bool = Field(False, description="the curator/extractor never sees the label")
    sc_n: int = Field(5, ge=1, le=64, description="self-consistency samples")
    k_facts: int = Field(5, ge=0, le=50, description="Mem0 facts retrieved per problem")
    cheatsheet_words: int = Field(600, ge=50, description="Dynamic Cheatsheet size limit given to the curator")
    curator_alias: str | None = Field(None, description="model of the curator/extractor; default: the consolidator's")


@dataclass
class Attempt:
    """The one strategy execution a baseline made for a problem (its answer is the method's answer)."""

    strategy: Strategy
    result: ExecutionResult
    rationale: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def load_strategy(filename: str) -> Strategy:
    """A shipped strategy (CoT and SC *are* the shipped files, not copies); ``filename`` may end in ``.json``."""
    strategy = shipped_strategy(filename.removesuffix(".json"))
    if strategy is None:
        raise KeyError(f"no shipped strategy {filename!r}")
    return strategy


def cot_with_context(name: str, summary: str, header: str, variable: str) -> Strategy:
    """The shipped chain of thought with remembered text (``{variable}``) in front of the problem.

    Dynamic Cheatsheet and the Mem0-style baseline differ only in what that text is, so both adapt a
    fixed prompt exactly this way."""
    data = load_strategy("chain_of_thought.json").to_json_dict()
    data["name"], data["summary"] = name, summary
    data["steps"][0]["prompt"] = f"{header}\n{{{variable}}}\n\nPROBLEM:\n{{problem}}"
    data["budget"]["max_tokens"] = 16000
    return Strategy.model_validate(data)


def library_strategies(known_tools: set[str], known_models: set[str]) -> tuple[dict[str, Strategy], dict[str, str]]:
    """Every shipped strategy valid for these tools and models, and why the others were skipped."""
    valid: dict[str, Strategy] = {}
    skipped: dict[str, str] = {}
    for key, shipped in shipped_strategies().items():
        strategy, issues = validate_strategy(shipped, known_tools, known_models)
        if strategy is None or issues:
            skipped[key] = str(issues[0]) if issues else "unreadable"
        else:
            valid[strategy.name] = strategy
    return valid, skipped


class Baseline(Method):
    """Subclasses set ``name`` and implement :meth:`attempt`; :meth:`prepare` and :meth:`learn` are optional."""

    name: ClassVar[str] = "baseline"

    # -- what subclasses provide ----------------------------------------------------------------
    async def prepare(self, config: BaselineConfig, warmup: Workload) -> dict[str, Any]:
        """Anything to do before the stream (the static baseline picks its strategy); returns run info."""
        return {}

    async def attempt(self, task: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        raise NotImplementedError

    async def learn(self, task: Task, attempt: Attempt, feedback: bool | None, config: BaselineConfig,
                    run_id: str, idx: int) -> UsageTotals:
        """Update the method's memory after a problem; the usage is billed as consolidator cost."""
        return UsageTotals()

    # -- the shared pass ---------------------------------------------------------------------
    def start_run(self, config: BaselineConfig, info: dict[str, Any] | None = None) -> str:
        return self.create_run(config.benchmark, n=config.n, k=1, seed=config.seed, label=config.label,
                               comparison_id=config.comparison_id,
                               config={"baseline": config.model_dump(), "info": info or {}})

    async def run(self, config: BaselineConfig, workload: Workload, run_id: str | None = None,
                  info: dict[str, Any] | None = None) -> str:
        """One online pass: tasks in order, memory updated after each; returns the run id."""
        run_id = run_id or self.start_run(config, info)

        async def solve(idx: int, task: Task, order: RunOrder, position: int) -> None:
            await self.solve(run_id, idx, task, workload, config, InOrder(order, position))

        await self.run_stream(run_id, workload, solve)  # one at a time: each learns before the next reads
        return run_id

    async def solve(self, run_id: str, idx: int, task: Task, workload: Workload, config: BaselineConfig,
                    gates: InOrder | None = None) -> ProblemOutcome:
        gates = gates or InOrder.alone()
        started = time.perf_counter()
        async with gates.starting():
            with self.memory.session() as store:
                store.start_problem(run_id, idx, task.id, task.text, None, task.benchmark)
        attempt = await self.attempt(task, config, run_id, idx)
        answer = attempt.result.answer if attempt.result.ok else None
        grader = workload.grader
        correct = (grader.grade(task, answer) if answer is not None else False) if grader is not None else None
        async with gates.committing():
            learned = await self.learn(task, attempt, None if config.label_free else correct, config, run_id, idx)
            gold = grader.gold(task) if grader is not None else None
            graded = grading_usage(grader, task)
            outcome = self._record(run_id, idx, task, attempt, (correct, gold, graded), learned,
                                   time.perf_counter() - started)
            gates.done(outcome)
        return outcome

    def _record(self, run_id: str, idx: int, task: Task, attempt: Attempt,
                grading: tuple[bool | None, str | None, GradingUsage], learned: UsageTotals,
                latency_s: float) -> ProblemOutcome:
        correct, gold, graded = grading
        r = attempt.result
        answer = r.answer if r.ok else None
        with self.memory.session() as store:
            execution_id = store.record_execution(ExecutionRecord(
                run_id=run_id, idx=idx, candidate=0, strategy=attempt.strategy, strategy_origin="baseline",
                rationale=attempt.rationale, answer=r.answer, correct=correct,
                feedback_source=None if correct is None else "label" if r.ok else "failed", ok=r.ok, error=r.error,
                calls=r.calls, tokens_in=r.tokens_in, tokens_out=r.tokens_out, cost_usd=r.cost_usd,
                latency_s=r.latency_s, trace=[t.model_dump() for t in r.trace], chosen=True))
            result = ProblemResult(
                run_id=run_id, idx=idx, answer=answer, correct=correct, gold=gold, chosen_execution_id=execution_id,
                chosen_strategy_hash=attempt.strategy.hash, cost_executor=r.cost_usd,
                cost_consolidator=learned.cost_usd, tokens_executor_in=r.tokens_in, tokens_executor_out=r.tokens_out,
                tokens_consolidator_in=learned.tokens_in, tokens_consolidator_out=learned.tokens_out,
                cost_judge=graded.cost_usd, tokens_judge_in=graded.tokens_in, tokens_judge_out=graded.tokens_out,
                calls=r.calls + learned.calls, latency_s=latency_s,
                tokens_cached_in=r.tokens_cached + learned.tokens_cached,
                tokens_reasoning=r.tokens_reasoning + learned.tokens_reasoning)
            store.finish_problem(result)
        return ProblemOutcome(idx=idx, problem_id=task.id, correct=correct, answer=answer, cost_usd=result.cost_usd,
                              cost_by_role=result.cost_by_role, tokens_by_role=result.tokens_by_role,
                              prompt_tokens=result.prompt_tokens, tokens_cached_in=result.tokens_cached_in,
                              chosen_strategy=attempt.strategy.name, candidates=1)

    def curator_alias(self, config: BaselineConfig) -> str:
        return config.curator_alias or self.llm.settings.roles["consolidator"]


def clip(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
