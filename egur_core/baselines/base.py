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

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from ..benchmarks.base import Problem, data_dir
from ..benchmarks.registry import score_prediction
from ..events import LoopEvent
from ..memory.records import ExecutionRecord, ProblemResult, RunConfig
from ..role_calls import UsageTotals
from ..runtime import Runtime
from ..strategy import Strategy
from ..trace import ExecutionResult
from ..validation import validate_strategy


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


def strategy_dir() -> Path:
    return data_dir() / "strategies"


def load_strategy(filename: str) -> Strategy:
    """A shipped strategy from ``data/strategies/`` (CoT and SC *are* these files, not copies)."""
    return Strategy.model_validate(json.loads((strategy_dir() / filename).read_text()))


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
    for path in sorted(strategy_dir().glob("*.json")):
        strategy, issues = validate_strategy(path.read_text(), known_tools, known_models)
        if strategy is None or issues:
            skipped[path.stem] = str(issues[0]) if issues else "unreadable"
        else:
            valid[strategy.name] = strategy
    return valid, skipped


class Baseline:
    """Subclasses set ``name`` and implement :meth:`attempt`; :meth:`learn` is optional."""

    name: ClassVar[str] = "baseline"

    def __init__(self, llm: Any, tools: Any, memory: Any, *, on_event: Callable[[LoopEvent], None] | None = None,
                 stop: threading.Event | None = None):
        self.llm, self.tools, self.memory = llm, tools, memory
        self.runtime = Runtime(llm, tools, concurrency=llm.settings.concurrency)
        self.on_event = on_event or (lambda event: None)
        self.stop = stop or threading.Event()

    # -- what subclasses provide ----------------------------------------------------------------
    async def prepare(self, config: BaselineConfig, warmup: list[Problem]) -> dict[str, Any]:
        """Anything to do before the stream (the static baseline picks its strategy); returns run info."""
        return {}

    async def attempt(self, problem: Problem, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        raise NotImplementedError

    async def learn(self, problem: Problem, attempt: Attempt, feedback: bool | None, config: BaselineConfig,
                    run_id: str, idx: int) -> UsageTotals:
        """Update the method's memory after a problem; the usage is billed as consolidator cost."""
        return UsageTotals()

    # -- the shared pass ---------------------------------------------------------------------
    def start_run(self, config: BaselineConfig, info: dict[str, Any] | None = None) -> str:
        settings = self.llm.settings
        with self.memory.session() as store:
            return store.create_run(RunConfig(
                benchmark=config.benchmark, method=self.name, label=config.label, n_problems=config.n, k=1,
                seed=config.seed, simulated=settings.is_simulated, model=settings.resolve("executor").model,
                comparison_id=config.comparison_id,
                config={"baseline": config.model_dump(), "info": info or {}, "settings": settings.safe_dict()}))

    async def run(self, config: BaselineConfig, problems: list[Problem], run_id: str | None = None,
                  info: dict[str, Any] | None = None) -> str:
        """One online pass: problems in order, memory updated after each; returns the run id."""
        run_id = run_id or self.start_run(config, info)
        with self.memory.session() as store:
            done = store.finished_indices(run_id)
        self._emit("run_started", run_id, None, total=len(problems))
        status = "finished"
        try:
            for idx, problem in enumerate(problems):
                if idx in done:
                    continue
                if self.stop.is_set():
                    status = "stopped"
                    break
                await self.solve(run_id, idx, problem, config)
        except BaseException as exc:
            self._set_status(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self._set_status(run_id, status)
        return run_id

    async def solve(self, run_id: str, idx: int, problem: Problem, config: BaselineConfig) -> dict[str, Any]:
        started = time.perf_counter()
        with self.memory.session() as store:
            store.start_problem(run_id, idx, problem.id, problem.text, problem.answer, problem.benchmark)
        attempt = await self.attempt(problem, config, run_id, idx)
        result = attempt.result
        answer = result.answer if result.ok else None
        correct = score_prediction(answer, problem) if answer is not None else False  # the label, after answering
        learned = await self.learn(problem, attempt, None if config.label_free else correct, config, run_id, idx)
        outcome = self._record(run_id, idx, attempt, answer, correct, learned, time.perf_counter() - started)
        self._emit("problem_finished", run_id, idx, **outcome)
        return outcome

    def _record(self, run_id: str, idx: int, attempt: Attempt, answer: str | None, correct: bool,
                learned: UsageTotals, latency_s: float) -> dict[str, Any]:
        r = attempt.result
        with self.memory.session() as store:
            execution_id = store.record_execution(ExecutionRecord(
                run_id=run_id, idx=idx, candidate=0, strategy=attempt.strategy, rationale=attempt.rationale,
                answer=r.answer, correct=correct, ok=r.ok, error=r.error, calls=r.calls, tokens_in=r.tokens_in,
                tokens_out=r.tokens_out, cost_usd=r.cost_usd, latency_s=r.latency_s,
                trace=[t.model_dump() for t in r.trace], chosen=True))
            store.finish_problem(ProblemResult(
                run_id=run_id, idx=idx, answer=answer, correct=correct, chosen_execution_id=execution_id,
                chosen_strategy_hash=attempt.strategy.hash, cost_executor=r.cost_usd,
                cost_consolidator=learned.cost_usd, tokens_executor_in=r.tokens_in, tokens_executor_out=r.tokens_out,
                tokens_consolidator_in=learned.tokens_in, tokens_consolidator_out=learned.tokens_out,
                calls=r.calls + learned.calls, latency_s=latency_s))
        return {"correct": correct, "answer": answer, "exploited": False, "cost_usd": r.cost_usd + learned.cost_usd,
                "cost_by_role": {"guide": 0.0, "executor": r.cost_usd, "consolidator": learned.cost_usd},
                "chosen_strategy": attempt.strategy.name, "candidates": 1}

    def _set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.memory.session() as store:
            store.set_run_status(run_id, status, error)
        self._emit("run_finished", run_id, None, status=status, error=error)

    def _emit(self, kind: str, run_id: str, idx: int | None, **payload: Any) -> None:
        self.on_event(LoopEvent(kind=kind, run_id=run_id, idx=idx, payload={"method": self.name, **payload}))

    def curator_alias(self, config: BaselineConfig) -> str:
        return config.curator_alias or self.llm.settings.roles["consolidator"]


def clip(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
