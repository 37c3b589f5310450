"""Ask: one problem through the EGuR loop step by step, with a person deciding between the steps.

The steps are the loop's own stages (:class:`EGuRLoop`), run one at a time: ``begin`` starts a run
of one problem, retrieves memory and asks the Guide for k candidates; ``run_candidates`` executes all of them
or the ones picked, and chooses the answer without any label; ``learn`` takes the person's verdict
(the right answer, or answers marked right or wrong; or none: label-free) and asks the Consolidator;
``commit`` records every execution, applies the Consolidator's edits or queues them for review,
and finishes the run. So a question asked here is recorded like a run of one problem: it appears
in provenance, the audit log and the Results page. Ask always consults the Guide (no exploiting):
seeing what it proposes is the point.

Between steps the state is kept in the memory file (this module's ``ask_sessions`` table), so a
dashboard rerun, a refreshed tab or a second ``egur ask --session`` continues where it stopped.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from egur_core.memory.records import Retrieved, dumps, utcnow
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.consolidator import ConsolidationOutcome
from egur_core.reasoner.feedback import Feedback, Judgement, label_free_feedback
from egur_core.reasoner.guide import GuideOutcome, ProposedCandidate
from egur_core.reasoner.loop import EGuRLoop, LoopConfig, ProblemState
from egur_core.reasoner.selection import choose, vote_key
from egur_core.reasoner.task import Task, Verifier
from egur_core.runtime.trace import ExecutionResult

TABLE_OWNER = "ask_sessions"
TABLES = (
    ("m001_ask_sessions", """
    CREATE TABLE IF NOT EXISTS ask_sessions (
        run_id VARCHAR PRIMARY KEY, stage VARCHAR NOT NULL, problem VARCHAR, state JSON NOT NULL,
        created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)"""),
)
Stage = Literal["proposed", "ran", "consolidated", "finished"]


class AskError(ValueError):
    """A step asked for out of order (run before candidates, commit before learning...). Nothing changed."""


class AskState(BaseModel):
    """Everything one question has accumulated; saved after every step."""

    run_id: str
    task: Task
    config: LoopConfig
    stage: Stage = "proposed"
    retrieved: Retrieved = Field(default_factory=Retrieved)
    watermark: int = Field(0, description="the newest memory op when the question read memory")
    guide: GuideOutcome = Field(default_factory=GuideOutcome)
    candidates: list[ProposedCandidate] = Field(default_factory=list, description="the runnable ones")
    fallback: bool = Field(False, description="the Guide proposed nothing runnable: the fallback strategy stands in")
    results: dict[int, ExecutionResult] = Field(default_factory=dict, description="by candidate index")
    chosen: int | None = Field(None, description="candidate index of the answer that counts")
    gold: str | None = None
    feedback: dict[int, bool | None] = Field(default_factory=dict, description="by candidate index")
    sources: dict[int, str] = Field(default_factory=dict, description="where each verdict came from")
    label_free: bool = False
    consolidation: ConsolidationOutcome | None = None
    applied: int = 0
    proposed: int = 0
    seconds: float = Field(0.0, description="machine time spent in the steps (not the person's)")

    @property
    def shown(self) -> list[ProposedCandidate]:
        """Everything to show: the Guide's candidates (refused ones too) and a fallback that stood in."""
        proposed = {c.index for c in self.guide.candidates}
        return [*self.guide.candidates, *(c for c in self.candidates if c.index not in proposed)]

    @property
    def ran(self) -> list[ProposedCandidate]:
        return [c for c in self.candidates if c.index in self.results]

    @property
    def answer(self) -> str | None:
        return self.results[self.chosen].answer if self.chosen is not None else None


def save(store: MemoryStore, state: AskState) -> None:
    store.ensure_tables(TABLE_OWNER, TABLES)
    now = utcnow()
    store.execute("""INSERT INTO ask_sessions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET
                     stage = excluded.stage, state = excluded.state, updated_at = excluded.updated_at""",
                  [state.run_id, state.stage, state.task.text[:500], state.model_dump_json(), now, now])


def load(store: MemoryStore, run_id: str) -> AskState:
    """A question's state; KeyError naming the id when there is none."""
    store.ensure_tables(TABLE_OWNER, TABLES)
    raw = store.scalar("SELECT state FROM ask_sessions WHERE run_id = ?", [run_id])
    if raw is None:
        raise KeyError(f"no question {run_id!r} in this memory file")
    return AskState.model_validate_json(raw)


def recent(store: MemoryStore, limit: int = 20) -> list[dict[str, Any]]:
    """The latest questions (run id, stage, the start of the problem), newest first."""
    store.ensure_tables(TABLE_OWNER, TABLES)
    return store.query("SELECT run_id, stage, problem, updated_at FROM ask_sessions ORDER BY updated_at DESC "
                       "LIMIT ?", [int(limit)])


def person_sources(state: AskState, feedback: dict[int, bool | None]) -> dict[int, str]:
    """Where a person's verdicts come from: a label where they gave one, ``failed`` for runs with no answer."""
    return {i: "failed" if not state.results[i].ok else "label" if v is not None else "none"
            for i, v in feedback.items() if i in state.results}


def marks_to_feedback(state: AskState, marks: dict[int, bool]) -> dict[int, bool | None]:
    """A person marked some answers right or wrong: answers that say the same thing share the mark;
    failed runs are wrong; the rest stay unknown (None)."""
    by_key = {vote_key(state.results[i].answer): ok for i, ok in marks.items() if i in state.results}
    out: dict[int, bool | None] = {}
    for index, result in state.results.items():
        out[index] = False if not result.ok else marks.get(index, by_key.get(vote_key(result.answer)))
    return out


class AskLoop(EGuRLoop):
    """The EGuR loop's stages one at a time, for one question (recorded as a run of method ``ask``)."""

    name: ClassVar[str] = "ask"

    def _save(self, state: AskState, started: float) -> AskState:
        state.seconds += time.perf_counter() - started
        with self.memory.session() as store:
            save(store, state)
        return state

    def _problem(self, state: AskState) -> ProblemState:
        """The loop's per-problem state rebuilt from a saved question (candidates that ran, in order)."""
        ran = state.ran
        p = ProblemState(state.run_id, 0, state.task, started=time.perf_counter() - state.seconds,
                         retrieved=state.retrieved, guide=state.guide, candidates=ran,
                         results=[state.results[c.index] for c in ran], consolidation=state.consolidation,
                         fallback=state.fallback, watermark=state.watermark)
        p.chosen = next((i for i, c in enumerate(ran) if c.index == state.chosen), None)
        if state.feedback or state.label_free:
            feedback = [Feedback(state.feedback.get(c.index), state.sources.get(c.index, "none")) for c in ran]
            correct = feedback[p.chosen].correct if p.chosen is not None and not state.label_free else None
            p.judgement = Judgement(correct=correct, gold=state.gold, feedback=feedback)
        return p

    async def begin(self, task: Task, config: LoopConfig) -> AskState:
        """Start a run of one problem, retrieve its memory and ask the Guide for ``config.k`` candidates."""
        started = time.perf_counter()
        config = config.model_copy(update={"n": 1, "benchmark": task.benchmark})
        run_id = self.start_run(config, extra={"ask": True})
        if config.seed_library:
            with self.memory.session() as store:
                store.seed_library(self.shipped)
        p = ProblemState(run_id, 0, task)
        self._retrieve(p, config)
        guide = await self._ask_guide(task, config, p.retrieved)
        candidates, fallback = guide.valid, False
        if not candidates and self.fallback is not None:  # as the loop does: something always runs
            candidates, fallback = [ProposedCandidate(index=len(guide.candidates), strategy=self.fallback,
                                                      origin="fallback", rationale=f"fallback: {guide.error}")], True
        self.emit("candidates_proposed", run_id, 0, exploited=False, guide_error=guide.error, fallback=fallback,
                  names=[c.strategy.name for c in candidates if c.strategy])
        return self._save(AskState(run_id=run_id, task=task, config=config, retrieved=p.retrieved, guide=guide,
                                   watermark=p.watermark, candidates=candidates, fallback=fallback), started)

    async def run_candidates(self, state: AskState, picks: list[int] | None = None,
                             verifier: Verifier | None = None) -> AskState:
        """Execute the picked candidates (default: every one not run yet); choose the answer, label unseen."""
        if state.stage not in ("proposed", "ran"):
            raise AskError(f"this question is {state.stage}: its candidates can no longer be run")
        started = time.perf_counter()
        wanted = [c for c in state.candidates if (picks is None or c.index in picks) and c.index not in state.results]
        if not wanted:
            raise AskError("nothing to run: pick candidates that have not run yet" if state.candidates else
                           f"the Guide proposed no valid candidate ({state.guide.error or 'no reply'})")
        batch = ProblemState(state.run_id, 0, state.task, candidates=wanted)
        await self._execute(batch)
        state.results.update({c.index: r for c, r in zip(wanted, batch.results)})
        ran = state.ran
        position = choose(state.task.text, [state.results[c.index] for c in ran], verifier)
        state.chosen = ran[position].index if position is not None else None
        state.stage = "ran"
        self.emit("answer_chosen", state.run_id, 0, candidate=state.chosen, answer=state.answer)
        return self._save(state, started)

    async def learn(self, state: AskState, feedback: dict[int, bool | None] | None, gold: str | None = None,
                    verifier: Verifier | None = None) -> AskState:
        """Take the person's verdict per candidate (None: none given, learn label-free) and consolidate."""
        if state.stage not in ("ran", "consolidated") or not state.results:
            raise AskError("run the candidates first: the Consolidator learns from their outcomes")
        started = time.perf_counter()
        state.label_free = feedback is None
        if feedback is None:
            ran = state.ran
            verdicts = label_free_feedback(state.task.text, [state.results[c.index] for c in ran], verifier)
            feedback = {c.index: v.correct for c, v in zip(ran, verdicts)}
            state.sources = {c.index: v.source for c, v in zip(ran, verdicts)}
        else:
            state.sources = person_sources(state, feedback)
        state.feedback, state.gold = dict(feedback), gold
        p = self._problem(state)
        config = state.config.model_copy(update={"label_free": state.label_free})
        state.consolidation = await self._consolidate(p, config)
        state.stage = "consolidated"
        return self._save(state, started)

    def commit(self, state: AskState, apply: bool) -> AskState:
        """Record the executions, apply the Consolidator's edits (or queue them for review), finish the run."""
        if state.stage != "consolidated":
            raise AskError("tell EGuR what was right first (or learn without feedback)" if state.stage != "finished"
                           else "this question is already finished")
        started = time.perf_counter()
        p = self._problem(state)
        outcome = self.commit_problem(p, state.config.model_copy(update={"review": not apply}))
        state.applied, state.proposed = outcome.ops_applied, outcome.ops_proposed
        self.emit("memory_updated", state.run_id, 0, applied=state.applied, proposed=state.proposed,
                  dropped=p.consolidation.dropped if p.consolidation else [],
                  summary=p.consolidation.summary if p.consolidation else "")
        self.emit("problem_finished", state.run_id, 0, **outcome.model_dump(exclude={"idx"}))
        self.finish_run(state.run_id, "finished")
        state.stage = "finished"
        return self._save(state, started)


def state_json(state: AskState) -> str:
    """The state as compact JSON (what ``egur ask --json`` prints)."""
    return dumps(state.model_dump(mode="json"))
