"""The EGuR loop, one problem at a time (DESIGN.md section 2).

retrieve -> exploit a proven library entry, or ask the Guide for k candidates -> run them all
concurrently -> choose the answer without the label -> feedback (label or verifier) ->
Consolidator edits memory (or queues proposals in review mode) -> record everything.

The loop holds no memory file open between problems, so a dashboard and the CLI can share one
file; a killed run resumes after its last finished problem.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from pydantic import BaseModel, Field

from .benchmarks.base import Problem
from .benchmarks.registry import get_benchmark, load_problems, score_prediction
from .consolidator import consolidate, consolidator_messages
from .events import LoopEvent
from .guide import GuideOutcome, ProposedCandidate, guide_messages, propose_strategies
from .memory.ops import AddEntry
from .memory.records import ExecutionRecord, MemoryOpError, ProblemResult, Retrieved, RunConfig
from .memory.store import MemoryStore
from .runtime import Runtime
from .selection import choose, label_free_correct, verifier_for
from .trace import ExecutionResult


class ExploitRule(BaseModel):
    """When a retrieved entry is similar and proven enough to run alone, skipping Guide and Consolidator."""

    enabled: bool = True
    min_similarity: float = Field(0.9, ge=0, le=1)
    min_uses: int = Field(3, ge=1)
    min_success_rate: float = Field(0.75, ge=0, le=1)
    explore_every: int = Field(8, ge=0, description="ask the Guide anyway on every n-th exploitable problem, "
                               "so a cheaper or better strategy can still be found (0: never)")


class LoopConfig(BaseModel):
    benchmark: str
    n: int = Field(30, ge=1)
    k: int = Field(3, ge=1, le=8)
    seed: int = 0
    exploit: ExploitRule = Field(default_factory=ExploitRule)
    k_entries: int = Field(5, ge=0, le=50)
    k_notes: int = Field(5, ge=0, le=50)
    same_benchmark_only: bool = False
    review: bool = Field(False, description="queue Consolidator ops as proposals instead of applying them")
    label_free: bool = Field(False, description="feedback from a verifier or agreement, never the label")
    label: str = ""


class MemoryAccess(Protocol):
    def session(self) -> AbstractContextManager[MemoryStore]: ...


class OpenStore:
    """A store that is already open (tests, ``:memory:``) used where a ``MemoryFile`` is expected."""

    def __init__(self, store: MemoryStore):
        self.store = store

    @contextmanager
    def session(self) -> Iterator[MemoryStore]:
        yield self.store


class ProblemOutcome(BaseModel):
    idx: int
    problem_id: str
    correct: bool | None
    answer: str | None
    exploited: bool
    cost_usd: float
    cost_by_role: dict[str, float]
    tokens_by_role: dict[str, int]
    chosen_strategy: str | None
    candidates: int
    ops_applied: int = 0
    ops_proposed: int = 0


class Models(Protocol):
    """What the loop needs from the model client (``LLMClient``)."""

    settings: Any

    async def chat(self, messages: list[dict], **kw: Any) -> Any: ...
    async def structured(self, messages: list[dict], schema: Any, **kw: Any) -> Any: ...


class EGuRLoop:
    def __init__(self, llm: Models, tools: Any, memory: MemoryAccess, *,
                 on_event: Callable[[LoopEvent], None] | None = None, stop: threading.Event | None = None):
        self.llm, self.tools, self.memory = llm, tools, memory
        self.runtime = Runtime(llm, tools, concurrency=llm.settings.concurrency)
        self.on_event = on_event or (lambda event: None)
        self.stop = stop or threading.Event()
        self.known_tools = set(tools.names())
        self.exploitable_seen = 0
        self.known_models = llm.settings.known_aliases()

    # -- a whole run ---------------------------------------------------------------------------------

    def start_run(self, config: LoopConfig) -> str:
        """Record a new run; an unknown benchmark is refused before anything is written."""
        get_benchmark(config.benchmark)
        settings = self.llm.settings
        with self.memory.session() as store:
            return store.create_run(RunConfig(
                benchmark=config.benchmark, method="egur", label=config.label, n_problems=config.n, k=config.k,
                seed=config.seed, simulated=settings.is_simulated, model=settings.resolve("executor").model,
                config={"loop": config.model_dump(), "settings": settings.safe_dict()}))

    async def run(self, config: LoopConfig, run_id: str | None = None,
                  problems: list[Problem] | None = None) -> list[ProblemOutcome]:
        """Run (or resume, given ``run_id``) the problem stream; returns this call's outcomes."""
        run_id = run_id or self.start_run(config)
        problems = problems if problems is not None else load_problems(config.benchmark, config.n, config.seed)
        with self.memory.session() as store:
            done = store.finished_indices(run_id)
            store.set_run_status(run_id, "running")
        self._emit("run_started", run_id, None, total=len(problems), resumed_after=len(done))
        outcomes: list[ProblemOutcome] = []
        try:
            for idx, problem in enumerate(problems):
                if idx in done:
                    continue
                if self.stop.is_set():
                    self._finish_run(run_id, "stopped")
                    return outcomes
                outcomes.append(await self.solve(run_id, idx, problem, config))
        except BaseException as exc:
            self._finish_run(run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self._finish_run(run_id, "finished")
        return outcomes

    def _finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.memory.session() as store:
            store.set_run_status(run_id, status, error)
        self._emit("run_finished", run_id, None, status=status, error=error)

    # -- one problem ---------------------------------------------------------------------------------

    async def solve(self, run_id: str, idx: int, problem: Problem, config: LoopConfig) -> ProblemOutcome:
        started = time.perf_counter()
        with self.memory.session() as store, store.transaction():
            store.start_problem(run_id, idx, problem.id, problem.text, problem.answer, problem.benchmark)
            retrieved = store.retrieve(problem.text, config.k_entries, config.k_notes,
                                       benchmark=problem.benchmark if config.same_benchmark_only else None)
            store.record_retrievals(run_id, idx, retrieved.entries, retrieved.notes)
        self._emit("problem_started", run_id, idx, problem_id=problem.id, retrieved_entries=len(retrieved.entries),
                   retrieved_notes=len(retrieved.notes))
        exploit = self._exploit_or_explore(retrieved, config.exploit)
        guide = GuideOutcome()
        if exploit is not None:
            candidates = [ProposedCandidate(index=0, strategy=exploit.strategy, from_library=exploit.entry_id,
                                            rationale=f"exploit library entry {exploit.entry_id}")]
        else:
            guide = await self._ask_guide(problem, config, retrieved)
            candidates = guide.valid
        self._emit("candidates_proposed", run_id, idx, exploited=exploit is not None,
                   names=[c.strategy.name for c in candidates if c.strategy], guide_error=guide.error,
                   invalid=[[str(i) for i in c.issues] for c in guide.candidates if c.strategy is None])
        results = list(await asyncio.gather(*(self.runtime.execute(c.strategy, problem.text) for c in candidates)))
        for candidate, result in zip(candidates, results):
            self._emit("execution_finished", run_id, idx, candidate=candidate.index, strategy=result.strategy_name,
                       ok=result.ok, cost_usd=result.cost_usd, error=result.error)
        verifier = verifier_for(problem.benchmark)
        chosen = choose(problem.text, results, verifier)
        answer = results[chosen].answer if chosen is not None else None
        correct = score_prediction(answer or "", problem) if answer is not None else False
        feedback = (label_free_correct(problem.text, results, chosen, verifier) if config.label_free
                    else [score_prediction(r.answer or "", problem) if r.ok else False for r in results])
        self._emit("answer_chosen", run_id, idx, candidate=chosen, answer=answer, correct=correct)
        consolidation = None
        if exploit is None and candidates:
            consolidation = await self._consolidate(problem, candidates, results, feedback, retrieved, config)
        execution_ids = self._record_candidates(run_id, idx, candidates, results, feedback, chosen, exploit, guide)
        applied, proposed = self._store_ops(run_id, idx, problem.text, consolidation, config)
        if consolidation is not None:
            self._emit("memory_updated", run_id, idx, applied=applied, proposed=proposed,
                       dropped=consolidation.dropped, summary=consolidation.summary, error=consolidation.error)
        outcome = self._finish_problem(run_id, idx, problem, results, execution_ids, chosen, correct, answer,
                                       exploit is not None, guide, consolidation, time.perf_counter() - started)
        outcome.ops_applied, outcome.ops_proposed = applied, proposed
        self._emit("problem_finished", run_id, idx, **outcome.model_dump(exclude={"idx"}))
        return outcome

    def _exploit_or_explore(self, retrieved: Retrieved, rule: ExploitRule):
        entry = _exploitable(retrieved, rule)
        if entry is None:
            return None
        self.exploitable_seen += 1
        if rule.explore_every and self.exploitable_seen % rule.explore_every == 0:
            return None
        return entry

    async def _ask_guide(self, problem: Problem, config: LoopConfig, retrieved: Retrieved) -> GuideOutcome:
        settings = self.llm.settings
        messages = guide_messages(problem.text, config.k, _library_view(retrieved), _notes_view(retrieved),
                                  self.tools.catalog(), settings.model_catalog())
        outcome = await propose_strategies(self.llm, messages, k=config.k, alias=settings.roles["guide"],
                                           known_tools=self.known_tools, known_models=self.known_models)
        by_hash = {e.strategy_hash: e.entry_id for e in retrieved.entries}
        for candidate in outcome.valid:
            candidate.from_library = by_hash.get(candidate.strategy.hash)
        if not outcome.valid and retrieved.entries:  # the Guide failed: fall back on the nearest cached strategy
            entry = retrieved.entries[0]
            outcome.candidates.append(ProposedCandidate(index=len(outcome.candidates), strategy=entry.strategy,
                                                        from_library=entry.entry_id, rationale="Guide fallback"))
        return outcome

    async def _consolidate(self, problem: Problem, candidates: list[ProposedCandidate],
                           results: list[ExecutionResult], feedback: list[bool | None], retrieved: Retrieved,
                           config: LoopConfig):
        shown = [{"candidate": c.index, "strategy_name": r.strategy_name, "strategy_hash": r.strategy_hash,
                  "strategy": c.strategy.to_json_dict(), "from_library": c.from_library, "correct": ok,
                  "cost_usd": round(r.cost_usd, 6), "tokens": r.tokens_in + r.tokens_out, "summary": r.summary()}
                 for c, r, ok in zip(candidates, results, feedback)]
        messages = consolidator_messages(problem.text, problem.benchmark, shown, _library_view(retrieved),
                                         _notes_view(retrieved), config.label_free)
        return await consolidate(self.llm, messages, alias=self.llm.settings.roles["consolidator"],
                                 shown_entries={e.entry_id for e in retrieved.entries},
                                 shown_notes={n.note_id for n in retrieved.notes})

    def _record_candidates(self, run_id, idx, candidates, results, feedback, chosen, exploit,
                           guide: GuideOutcome) -> list[int]:
        """Every execution, the measured outcome of reused entries and the rejected candidates: one transaction."""
        ids = []
        with self.memory.session() as store, store.transaction():
            self._record_rejected(store, run_id, idx, guide)
            for position, (candidate, result, ok) in enumerate(zip(candidates, results, feedback)):
                ids.append(store.record_execution(ExecutionRecord(
                    run_id=run_id, idx=idx, candidate=candidate.index, strategy=candidate.strategy,
                    rationale=candidate.rationale, answer=result.answer, correct=ok, ok=result.ok, error=result.error,
                    calls=result.calls, tokens_in=result.tokens_in, tokens_out=result.tokens_out,
                    cost_usd=result.cost_usd, latency_s=result.latency_s,
                    trace=[t.model_dump() for t in result.trace], chosen=position == chosen,
                    exploited=exploit is not None)))
                if candidate.from_library is not None and ok is not None:
                    store.record_entry_outcome(candidate.from_library, bool(ok), result.cost_usd)
        return ids

    @staticmethod
    def _record_rejected(store: MemoryStore, run_id: str, idx: int, guide: GuideOutcome) -> None:
        """Candidates the Guide wrote that failed validation: kept, with their issues, for inspection."""
        for candidate in (c for c in guide.candidates if c.strategy is None):
            issues = [str(issue) for issue in candidate.issues]
            store.record_execution(ExecutionRecord(
                run_id=run_id, idx=idx, candidate=candidate.index, rationale=candidate.rationale, ok=False,
                error="invalid strategy: " + "; ".join(issues), trace={"raw": candidate.raw, "issues": issues}))

    def _store_ops(self, run_id: str, idx: int, problem_text: str, consolidation,
                   config: LoopConfig) -> tuple[int, int]:
        if consolidation is None or not consolidation.ops:
            return 0, 0
        for op in consolidation.ops:
            if isinstance(op, AddEntry) and not op.example:
                op.example = problem_text[:20_000]
        with self.memory.session() as store:
            if config.review:
                return 0, len(store.propose(consolidation.ops, run_id, idx))
            try:
                return len(store.apply_many(consolidation.ops, "consolidator", run_id, idx)), 0
            except MemoryOpError:
                return self._apply_one_by_one(store, consolidation, run_id, idx), 0

    @staticmethod
    def _apply_one_by_one(store: MemoryStore, consolidation, run_id: str, idx: int) -> int:
        applied = 0
        for op in consolidation.ops:
            try:
                store.apply(op, "consolidator", run_id, idx)
                applied += 1
            except MemoryOpError as exc:
                consolidation.dropped.append(f"{op.op}: {exc}")
        return applied

    def _finish_problem(self, run_id, idx, problem, results, execution_ids, chosen, correct, answer, exploited,
                        guide: GuideOutcome, consolidation, latency_s: float) -> ProblemOutcome:
        execu = {"cost": sum(r.cost_usd for r in results), "in": sum(r.tokens_in for r in results),
                 "out": sum(r.tokens_out for r in results)}
        cons_cost = consolidation.cost_usd if consolidation else 0.0
        result = ProblemResult(
            run_id=run_id, idx=idx, answer=answer, correct=correct, exploited=exploited,
            chosen_execution_id=execution_ids[chosen] if chosen is not None else None,
            chosen_strategy_hash=results[chosen].strategy_hash if chosen is not None else None,
            cost_guide=guide.cost_usd, cost_executor=execu["cost"], cost_consolidator=cons_cost,
            tokens_guide_in=guide.tokens_in, tokens_guide_out=guide.tokens_out,
            tokens_executor_in=execu["in"], tokens_executor_out=execu["out"],
            tokens_consolidator_in=consolidation.tokens_in if consolidation else 0,
            tokens_consolidator_out=consolidation.tokens_out if consolidation else 0,
            calls=guide.calls + sum(r.calls for r in results) + (consolidation.calls if consolidation else 0),
            latency_s=latency_s, error=guide.error if not results else None)
        with self.memory.session() as store:
            store.finish_problem(result)
        return ProblemOutcome(
            idx=idx, problem_id=problem.id, correct=correct, answer=answer, exploited=exploited,
            cost_usd=result.cost_usd,
            cost_by_role={"guide": guide.cost_usd, "executor": execu["cost"], "consolidator": cons_cost},
            tokens_by_role={"guide": guide.tokens_in + guide.tokens_out, "executor": execu["in"] + execu["out"],
                            "consolidator": result.tokens_consolidator_in + result.tokens_consolidator_out},
            chosen_strategy=results[chosen].strategy_name if chosen is not None else None, candidates=len(results))

    def _emit(self, kind: str, run_id: str, idx: int | None, **payload: Any) -> None:
        self.on_event(LoopEvent(kind=kind, run_id=run_id, idx=idx, payload=payload))


def _exploitable(retrieved: Retrieved, rule: ExploitRule):
    """The best proven entry (highest success rate, then cheapest) among the similar ones, or None."""
    if not rule.enabled:
        return None
    proven = [e for e in retrieved.entries if e.similarity >= rule.min_similarity and e.uses >= rule.min_uses
              and e.successes / e.uses >= rule.min_success_rate]
    if not proven:
        return None
    return max(proven, key=lambda e: (e.successes / e.uses, -e.total_cost / e.uses, e.similarity))


def _library_view(retrieved: Retrieved) -> list[dict]:
    return [{"entry_id": e.entry_id, "similarity": round(e.similarity, 3), "signature": e.signature[:300],
             "uses": e.uses, "successes": e.successes,
             "success_rate": round(e.successes / e.uses, 3) if e.uses else None,
             "mean_cost_usd": round(e.total_cost / e.uses, 6) if e.uses else None, "pinned": e.pinned,
             "strategy_name": e.strategy.name, "strategy_hash": e.strategy_hash, "strategy": e.strategy.to_json_dict()}
            for e in retrieved.entries]


def _notes_view(retrieved: Retrieved) -> list[dict]:
    return [{"note_id": n.note_id, "text": n.text, "helpful": n.helpful, "harmful": n.harmful, "pinned": n.pinned}
            for n in retrieved.notes]
