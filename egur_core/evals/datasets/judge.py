"""The LLM judge: grades an answer against a dataset's rubric (and reference answer, when it has one).

It is a model call in its own role, ``judge``, so its cost is recorded apart from the method's
(``problems.cost_judge``); every judgement is kept with its reasoning in this module's table. The
judge is a grader: it runs once the answer that counts has been chosen, like any other grading.
The loop calls graders synchronously, so each judgement runs on its own event loop in a worker
thread and closes what it opened there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.scorers import DEFAULT_RUBRIC, ScorerSpec
from egur_core.memory.records import utcnow
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.method import Models
from egur_core.reasoner.role_calls import UsageTotals, call_role, context_block
from egur_core.reasoner.task import GradingUsage, Task
from egur_core.runtime.answers import extract_final_answer

CONTEXT_HEADER = "JUDGE_CONTEXT"
JUDGE_MARKER = "You are the judge of an evaluation."
MAX_ANSWER_CHARS = 6000
TABLE_OWNER = "dataset_judgements"
TABLES = (
    ("m001_judgements", """
    CREATE TABLE IF NOT EXISTS judgements (
        judgement_id BIGINT PRIMARY KEY, created_at TIMESTAMP NOT NULL, dataset VARCHAR NOT NULL,
        problem_id VARCHAR NOT NULL, answer VARCHAR, reference VARCHAR, correct BOOLEAN, reasoning VARCHAR,
        rubric VARCHAR, model VARCHAR, cost_usd DOUBLE, tokens_in BIGINT, tokens_out BIGINT, error VARCHAR)"""),
)


class JudgeReply(BaseModel):
    reasoning: str = Field(description="why the answer is or is not correct, in a few sentences, first")
    verdict: Literal["correct", "incorrect"]


class Verdict(BaseModel):
    """One judgement: correct or not (None when the judge could not answer), why, and what it cost."""

    correct: bool | None
    reasoning: str = ""
    model: str = ""
    usage: UsageTotals = Field(default_factory=UsageTotals)


def judge_messages(problem: str, answer: str, reference: str | None, rubric: str) -> list[dict]:
    context = {"problem": problem[:MAX_ANSWER_CHARS], "answer": answer[:MAX_ANSWER_CHARS],
               "final_answer": extract_final_answer(answer), "reference": reference,
               "rubric": rubric or DEFAULT_RUBRIC}
    system = (f"{JUDGE_MARKER} Decide whether the answer to the problem is correct according to the rubric"
              + (" and the reference answer" if reference else "") + ". Judge only the final result, not the "
              "style. Reason first, then give the verdict.\n"
              'Reply with JSON only: {"reasoning": "...", "verdict": "correct" | "incorrect"}')
    return [{"role": "system", "content": system},
            {"role": "user", "content": context_block(CONTEXT_HEADER, context) + "Judge the answer."}]


async def judge_answer(llm: Models, problem: str, answer: str, reference: str | None, rubric: str) -> Verdict:
    """One judge call (role ``judge``); never raises: a failed call is a verdict of None with the reason."""
    usage = UsageTotals()
    alias = llm.settings.roles["judge"]
    reply = await call_role(llm, judge_messages(problem, answer, reference, rubric), JudgeReply, usage,
                            alias=alias, role="judge", max_tokens=800)
    model = llm.settings.resolve(alias).model
    if reply is None:
        return Verdict(correct=None, reasoning=usage.error or "the judge gave no verdict", model=model, usage=usage)
    return Verdict(correct=reply.verdict == "correct", reasoning=reply.reasoning, model=model, usage=usage)


class _Sessions(Protocol):
    def session(self) -> AbstractContextManager[MemoryStore]: ...


def record(store: MemoryStore, dataset: str, problem: Problem, answer: str, rubric: str, verdict: Verdict) -> int:
    """Keep a judgement with its reasoning; returns its id."""
    store.ensure_tables(TABLE_OWNER, TABLES)
    with store.transaction():
        judgement_id = store.next_id("judgements", "judgements", "judgement_id")
        store.execute("INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            judgement_id, utcnow(), dataset, problem.id, answer, problem.answer or None, verdict.correct,
            verdict.reasoning, rubric, verdict.model, verdict.usage.cost_usd, verdict.usage.tokens_in,
            verdict.usage.tokens_out, verdict.usage.error])
    return judgement_id


def judgements(store: MemoryStore, dataset: str, problem_id: str | None = None) -> list[dict[str, Any]]:
    """Stored judgements of a dataset (one problem's when given), newest first."""
    store.ensure_tables(TABLE_OWNER, TABLES)
    return store.query("SELECT * FROM judgements WHERE dataset = ? AND (? IS NULL OR problem_id = ?) "
                       "ORDER BY judgement_id DESC", [dataset, problem_id, problem_id])


class JudgeGrader:
    """A :class:`egur_core.reasoner.task.Grader` that asks the ``judge`` role; one call per distinct answer."""

    def __init__(self, problems: Sequence[Problem], spec: ScorerSpec, llm: Models, memory: _Sessions | None,
                 dataset: str):
        self._problems = {p.id: p for p in problems}
        self.spec, self.llm, self.memory, self.dataset = spec, llm, memory, dataset
        self._memo: dict[tuple[str, str], Verdict] = {}
        self._usage: dict[str, GradingUsage] = {}
        self._lock = threading.Lock()

    def grade(self, task: Task, answer: str) -> bool:
        problem = self._problems.get(task.id)
        if problem is None or not (answer or "").strip():
            return False
        key = (task.id, answer)
        with self._lock:
            verdict = self._memo.get(key)
        if verdict is None:
            verdict = self._judge(problem, answer)
        return bool(verdict.correct)

    def _judge(self, problem: Problem, answer: str) -> Verdict:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            verdict = pool.submit(asyncio.run, self._judge_once(problem, answer)).result()
        with self._lock:
            self._memo[(problem.id, answer)] = verdict
            was = self._usage.get(problem.id, GradingUsage())
            self._usage[problem.id] = GradingUsage(
                cost_usd=was.cost_usd + verdict.usage.cost_usd, tokens_in=was.tokens_in + verdict.usage.tokens_in,
                tokens_out=was.tokens_out + verdict.usage.tokens_out, calls=was.calls + verdict.usage.calls)
        if self.memory is not None:
            with self.memory.session() as store:
                record(store, self.dataset, problem, answer, self.spec.rubric, verdict)
        return verdict

    async def _judge_once(self, problem: Problem, answer: str) -> Verdict:
        """On the worker's own loop: judge, then close the SDK clients this loop opened."""
        try:
            return await judge_answer(self.llm, problem.text, answer, problem.answer or None, self.spec.rubric)
        finally:
            close = getattr(self.llm, "aclose", None)
            if close is not None:
                await close()

    def gold(self, task: Task) -> str | None:
        problem = self._problems.get(task.id)
        return (problem.answer or None) if problem is not None else None

    def usage(self, task: Task) -> GradingUsage:
        with self._lock:
            return self._usage.get(task.id, GradingUsage())
