"""The EGuR loop, one problem at a time (DESIGN.md section 2).

retrieve -> exploit a proven library entry, or ask the Guide for k candidates -> run them all
concurrently -> choose the answer without the label -> grade, and feedback (label or verifier) ->
Consolidator edits memory (or queues proposals in review mode) -> record everything.

The loop holds no memory file open between problems, so a dashboard and the CLI can share one
file; a killed run resumes after its last finished problem.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from egur_core.memory.ops import AddEntry
from egur_core.memory.records import ExecutionRecord, ProblemResult, Retrieved, RetrievedEntry
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.consolidator import ConsolidationOutcome, consolidate, consolidator_messages
from egur_core.reasoner.exploit import ExploitRule, ExploreSchedule
from egur_core.reasoner.feedback import Judgement, judge
from egur_core.reasoner.guide import (
    Catalogue,
    GuideOutcome,
    ProposedCandidate,
    guide_messages,
    library_view,
    notes_view,
    propose_strategies,
)
from egur_core.reasoner.method import MemoryAccess, Method, Models, ProblemOutcome
from egur_core.reasoner.ordering import InOrder, RunOrder
from egur_core.reasoner.selection import choose
from egur_core.reasoner.task import Task, Workload
from egur_core.runtime.trace import ExecutionResult
from egur_core.strategy.model import Strategy
from egur_core.strategy.shipped import FALLBACK, shipped_strategies, shipped_strategy

__all__ = ["EGuRLoop", "ExploitRule", "LoopConfig", "ProblemState"]


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
    seed_library: bool = Field(True, description="a memory file's first run adds the shipped strategies to the "
                               "library (marked seed, undoable)")
    parallel: int = Field(1, ge=1, le=64, description="problems in flight at once; each reads the memory left by "
                          "the problems W places before it, and edits land in problem order (1: one at a time)")
    ordered: bool = Field(True, description="with parallel > 1: edits land in problem order, so a seed gives the "
                          "same run at any timing; off, each problem reads the memory as it starts and commits "
                          "when done (faster: a slow problem holds nobody; not reproducible)")
    label: str = ""


def call_cap_note(parallel: int, k: int, concurrency: int) -> str | None:
    """Problems in flight share the settings' cap on model calls at once: a note when the cap, not W, sets the pace
    (``perf/bench_parallel.py --concurrency`` measures how much)."""
    wanted = parallel * k
    if parallel == 1 or wanted <= concurrency:
        return None
    return (f"{parallel} problems in flight with {k} candidates each can make {wanted} or more model "
            f"calls at once, but the settings allow {concurrency} (concurrency = N in egur.toml): raise it if your "
            "endpoint takes more, or the cap, not the problems in flight, sets the pace")


@dataclass
class _Problem:
    """Everything one problem accumulates on its way through the loop."""

    run_id: str
    idx: int
    task: Task
    started: float = field(default_factory=time.perf_counter)
    retrieved: Retrieved = field(default_factory=Retrieved)
    exploited: RetrievedEntry | None = None
    guide: GuideOutcome = field(default_factory=GuideOutcome)
    candidates: list[ProposedCandidate] = field(default_factory=list)
    results: list[ExecutionResult] = field(default_factory=list)
    chosen: int | None = None
    judgement: Judgement | None = None
    consolidation: ConsolidationOutcome | None = None
    fallback: bool = False
    watermark: int = 0
    """The newest memory op when this problem read the memory: edits after it were made by others."""

    @property
    def answer(self) -> str | None:
        return self.results[self.chosen].answer if self.chosen is not None else None

    def note(self) -> str | None:
        """What happened on the way, in a few words: the modes refused, the fallback."""
        parts = [f"guide: {'; '.join(self.guide.negotiation)}"] if self.guide.negotiation else []
        if self.fallback:
            parts.append(f"fallback: {self.candidates[0].strategy.name} ({_short(self.guide.error)})")
        return ", ".join(parts) or None

    def failure(self) -> tuple[str | None, str | None]:
        """(kind, '<kind>: <message>') of the model failure that left the problem unanswered, else (None, None)."""
        if self.chosen is not None:
            return None, None
        failed = [(r.error_kind, r.error) for r in self.results if r.error_kind] or \
            ([(self.guide.error_kind, self.guide.error)] if self.guide.error_kind else [])
        if not failed:
            return None, None
        kind, message = failed[-1]
        return kind, f"{kind}: {message}"


class EGuRLoop(Method):
    """EGuR on a workload: for each task, exploit a proven strategy or ask the Guide, run, choose,
    grade, consolidate, record."""

    name: ClassVar[str] = "egur"

    def __init__(self, llm: Models, tools: Any, memory: MemoryAccess, *, fallback: Strategy | None = None,
                 **kw: Any):
        """``fallback`` runs when the Guide proposes nothing runnable (default: the shipped chain of thought)."""
        super().__init__(llm, tools, memory, **kw)
        self.known_tools = set(tools.names())
        self.known_models = llm.settings.known_aliases()
        self.schedule = ExploreSchedule()
        self.fallback = fallback or shipped_strategy(FALLBACK)
        self.shipped = shipped_strategies()

    def start_run(self, config: LoopConfig, *, comparison_id: str | None = None,
                  extra: dict[str, Any] | None = None) -> str:
        """Record a new run of this configuration (the caller built a workload for its benchmark)."""
        return self.create_run(config.benchmark, n=config.n, k=config.k, seed=config.seed, label=config.label,
                               comparison_id=comparison_id, config={"loop": config.model_dump(), **(extra or {})})

    async def run(self, config: LoopConfig, workload: Workload, run_id: str | None = None) -> list[ProblemOutcome]:
        """Run (or resume, given ``run_id``) the workload, ``config.parallel`` problems at a time; returns this
        call's outcomes."""
        run_id = run_id or self.start_run(config)
        if config.seed_library:
            with self.memory.session() as store:
                store.seed_library(self.shipped)

        async def solve(idx: int, task: Task, order: RunOrder, position: int) -> None:
            await self.solve(run_id, idx, task, workload, config, InOrder(order, position))

        return await self.run_stream(run_id, workload, solve, parallel=config.parallel, ordered=config.ordered)

    async def solve(self, run_id: str, idx: int, task: Task, workload: Workload, config: LoopConfig,
                    gates: InOrder | None = None) -> ProblemOutcome:
        """One problem: read memory at its start, compute, then write memory at its turn (``gates``; alone when
        None)."""
        gates = gates or InOrder.alone()
        p = _Problem(run_id, idx, task)
        async with gates.starting():
            self._retrieve(p, config)
            p.exploited = self.schedule.pick(p.retrieved, config.exploit, self.llm.settings.is_simulated)
        if p.exploited is not None:
            p.candidates = [ProposedCandidate(index=0, strategy=p.exploited.strategy, from_library=p.exploited.entry_id,
                                              origin="exploit",
                                              rationale=f"exploit library entry {p.exploited.entry_id}")]
        else:
            p.guide = await self._ask_guide(task, config, p.retrieved)
            p.candidates = p.guide.valid
            if not p.candidates and self.fallback is not None:
                p.fallback = True
                p.candidates = [ProposedCandidate(index=len(p.guide.candidates), strategy=self.fallback,
                                                  origin="fallback", rationale=f"fallback: {p.guide.error}")]
        self.emit("candidates_proposed", run_id, idx, exploited=p.exploited is not None,
                  names=[c.strategy.name for c in p.candidates if c.strategy], guide_error=p.guide.error,
                  invalid=[[str(i) for i in c.issues] for c in p.guide.candidates if c.strategy is None],
                  fallback=p.fallback, note=p.note(), mode=p.guide.mode)
        await self._execute(p)
        p.chosen = choose(task.text, p.results, workload.verifier)
        self.emit("answer_chosen", run_id, idx, candidate=p.chosen, answer=p.answer)
        p.judgement = judge(task, p.results, p.chosen, grader=workload.grader, verifier=workload.verifier,
                            label_free=config.label_free)
        if p.exploited is None and p.candidates:
            p.consolidation = await self._consolidate(p, config)
        async with gates.committing():
            outcome = self.commit_problem(p, config)
            if p.consolidation is not None:
                self.emit("memory_updated", run_id, idx, applied=outcome.ops_applied, proposed=outcome.ops_proposed,
                          dropped=p.consolidation.dropped, summary=p.consolidation.summary,
                          error=p.consolidation.error)
            gates.done(outcome)
        return outcome

    def commit_problem(self, p: _Problem, config: LoopConfig) -> ProblemOutcome:
        """Everything a problem leaves in memory, in one transaction: its executions, the measured outcome of the
        entries it ran, the Consolidator's edits and its result land together, or (a crash, a full disk) not at
        all and a resumed run redoes the problem."""
        with self.memory.session() as store, store.transaction():
            execution_ids = self._record_candidates(store, p)
            applied, proposed = self._store_ops(store, p, config)
            outcome = self._finish_problem(store, p, execution_ids)
        outcome.ops_applied, outcome.ops_proposed = applied, proposed
        return outcome

    # -- the stages of one problem ---------------------------------------------------------------------

    def _retrieve(self, p: _Problem, config: LoopConfig) -> None:
        """Start the problem, retrieve its memory and log the retrieval: one transaction."""
        with self.memory.session() as store, store.transaction():
            store.start_problem(p.run_id, p.idx, p.task.id, p.task.text, None, p.task.benchmark)
            p.retrieved = store.retrieve(p.task.text, config.k_entries, config.k_notes,
                                         benchmark=p.task.benchmark if config.same_benchmark_only else None)
            store.record_retrievals(p.run_id, p.idx, p.retrieved.entries, p.retrieved.notes)
            p.watermark = store.last_op_id()
        self.emit("problem_started", p.run_id, p.idx, problem_id=p.task.id,
                  retrieved_entries=len(p.retrieved.entries), retrieved_notes=len(p.retrieved.notes))

    async def _ask_guide(self, task: Task, config: LoopConfig, retrieved: Retrieved) -> GuideOutcome:
        settings = self.llm.settings
        messages = guide_messages(task.text, config.k, library_view(retrieved), notes_view(retrieved),
                                  self.tools.catalog(), settings.model_catalog(), shipped=sorted(self.shipped))
        catalogue = Catalogue(tools=self.known_tools, models=self.known_models, shipped=self.shipped,
                              library={e.entry_id: e.strategy for e in retrieved.entries})
        outcome = await propose_strategies(self.llm, messages, k=config.k, alias=settings.roles["guide"],
                                           catalogue=catalogue)
        by_hash = {e.strategy_hash: e.entry_id for e in retrieved.entries}
        for candidate in outcome.valid:
            candidate.from_library = candidate.from_library or by_hash.get(candidate.strategy.hash)
        return outcome

    async def _execute(self, p: _Problem) -> None:
        """Every candidate at once (the runtime caps calls in flight); each failure stays its own."""
        p.results = list(await asyncio.gather(*(self.runtime.execute(c.strategy, p.task.text) for c in p.candidates)))
        for candidate, result in zip(p.candidates, p.results):
            self.emit("execution_finished", p.run_id, p.idx, candidate=candidate.index,
                      strategy=result.strategy_name, ok=result.ok, cost_usd=result.cost_usd, error=result.error)

    async def _consolidate(self, p: _Problem, config: LoopConfig) -> ConsolidationOutcome:
        shown = [{"candidate": c.index, "strategy_name": r.strategy_name, "strategy_hash": r.strategy_hash,
                  "strategy": c.strategy.to_brief_dict(), "from_library": c.from_library, "correct": fb.correct,
                  "feedback_source": fb.source, "cost_usd": round(r.cost_usd, 6), "tokens": r.tokens_in + r.tokens_out,
                  "summary": r.summary()}
                 for c, r, fb in zip(p.candidates, p.results, p.judgement.feedback)]
        messages = consolidator_messages(p.task.text, p.task.benchmark, shown, library_view(p.retrieved),
                                         notes_view(p.retrieved), config.label_free)
        return await consolidate(self.llm, messages, alias=self.llm.settings.roles["consolidator"],
                                 shown_entries={e.entry_id for e in p.retrieved.entries},
                                 shown_notes={n.note_id for n in p.retrieved.notes})

    def _record_candidates(self, store: MemoryStore, p: _Problem) -> list[int]:
        """Every execution (after the rejected candidates, in one statement) and the measured outcome of the entries
        they ran (named by the Guide, or the same strategy written afresh); returns the executions' ids."""
        guide_model = self.llm.settings.resolve("guide").model
        simulated = self.llm.settings.is_simulated
        executions = [ExecutionRecord(
            run_id=p.run_id, idx=p.idx, candidate=candidate.index, strategy=candidate.strategy,
            strategy_parent=candidate.parent_hash, strategy_origin=candidate.origin,
            strategy_made_by=guide_model if candidate.origin.startswith("guide") else None,
            rationale=candidate.rationale, answer=result.answer, correct=fb.correct,
            feedback_source=fb.source, ok=result.ok, error=result.error,
            calls=result.calls, tokens_in=result.tokens_in, tokens_out=result.tokens_out,
            cost_usd=result.cost_usd, latency_s=result.latency_s,
            trace=[t.model_dump() for t in result.trace], chosen=position == p.chosen,
            exploited=p.exploited is not None)
            for position, (candidate, result, fb) in enumerate(zip(p.candidates, p.results, p.judgement.feedback))]
        rejected = _rejected_records(p)
        ids = store.record_executions(rejected + executions)[len(rejected):]
        for candidate, result, fb in zip(p.candidates, p.results, p.judgement.feedback):
            entry_id = candidate.from_library
            if entry_id is None and result.strategy_hash:
                entry_id = store.entry_holding(result.strategy_hash, p.task.benchmark)
            if entry_id is not None and fb.correct is not None:
                store.record_entry_outcome(entry_id, fb.correct, result.cost_usd, simulated)
        return ids

    def _store_ops(self, store: MemoryStore, p: _Problem, config: LoopConfig) -> tuple[int, int]:
        """Apply the Consolidator's ops (or queue them for review); returns (applied, proposed)."""
        consolidation = p.consolidation
        if consolidation is None or not consolidation.ops:
            return 0, 0
        for op in consolidation.ops:
            if isinstance(op, AddEntry) and not op.example:
                op.example = p.task.text[:20_000]
        done = store.apply_problem_ops(consolidation.ops, p.run_id, p.idx, review=config.review,  # once per problem
                                       read_at=p.watermark)
        consolidation.dropped += done.dropped
        return len(done.applied), len(done.proposed)

    def _finish_problem(self, store: MemoryStore, p: _Problem, execution_ids: list[int]) -> ProblemOutcome:
        guide, cons, results, chosen = p.guide, p.consolidation or ConsolidationOutcome(), p.results, p.chosen
        executor_in, executor_out = sum(r.tokens_in for r in results), sum(r.tokens_out for r in results)
        result = ProblemResult(
            run_id=p.run_id, idx=p.idx, answer=p.answer, correct=p.judgement.correct, gold=p.judgement.gold,
            exploited=p.exploited is not None,
            chosen_execution_id=execution_ids[chosen] if chosen is not None else None,
            chosen_strategy_hash=results[chosen].strategy_hash if chosen is not None else None,
            cost_guide=guide.cost_usd, cost_executor=sum(r.cost_usd for r in results), cost_consolidator=cons.cost_usd,
            tokens_guide_in=guide.tokens_in, tokens_guide_out=guide.tokens_out,
            tokens_executor_in=executor_in, tokens_executor_out=executor_out,
            tokens_consolidator_in=cons.tokens_in, tokens_consolidator_out=cons.tokens_out,
            cost_judge=p.judgement.grading.cost_usd, tokens_judge_in=p.judgement.grading.tokens_in,
            tokens_judge_out=p.judgement.grading.tokens_out,
            calls=guide.calls + sum(r.calls for r in results) + cons.calls,
            latency_s=time.perf_counter() - p.started, fallback=p.fallback,
            tokens_cached_in=guide.tokens_cached + cons.tokens_cached + sum(r.tokens_cached for r in results),
            tokens_reasoning=guide.tokens_reasoning + cons.tokens_reasoning + sum(r.tokens_reasoning for r in results),
            error=_problem_error(p))
        store.finish_problem(result)
        failure_kind, failure = p.failure()
        return ProblemOutcome(
            idx=p.idx, problem_id=p.task.id, correct=result.correct, answer=p.answer, exploited=result.exploited,
            cost_usd=result.cost_usd, cost_by_role=result.cost_by_role, tokens_by_role=result.tokens_by_role,
            prompt_tokens=result.prompt_tokens, tokens_cached_in=result.tokens_cached_in,
            chosen_strategy=results[chosen].strategy_name if chosen is not None else None, candidates=len(results),
            fallback=p.fallback, note=p.note(), failure=failure, failure_kind=failure_kind)


def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem_error(p: _Problem) -> str | None:
    """What the problem row keeps of what went wrong: the Guide's failure, and why nothing answered."""
    parts = [p.guide.error] if p.guide.error else []
    _, failure = p.failure()
    if failure and failure not in parts:
        parts.append(failure)
    return "; ".join(parts) or None


def _rejected_records(p: _Problem) -> list[ExecutionRecord]:
    """Candidates the Guide wrote that failed validation: kept, with their issues, for inspection."""
    records = []
    for candidate in (c for c in p.guide.candidates if c.strategy is None):
        issues = [str(issue) for issue in candidate.issues]
        records.append(ExecutionRecord(
            run_id=p.run_id, idx=p.idx, candidate=candidate.index, rationale=candidate.rationale, ok=False,
            error="invalid strategy: " + "; ".join(issues), trace={"raw": candidate.raw, "issues": issues}))
    return records


ProblemState = _Problem
"""One problem's state on its way through the stages: public for step-by-step use of them (``reasoner.ask``)."""
