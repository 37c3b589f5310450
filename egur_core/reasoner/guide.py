"""The Guide: one structured LLM call that writes k candidate strategies for a problem.

It sees the problem, the retrieved library entries (with their measured stats), the notes, and
the tool and model catalogues with prices. Its reply is validated strategy by strategy: an
invalid candidate is dropped with its validation issues kept, so a person can see what the
Guide tried and why it was refused.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, Field

from egur_core.memory.records import Retrieved
from egur_core.reasoner.role_calls import StructuredModel, UsageTotals, call_role, context_block
from egur_core.strategy.model import STEP_KINDS
from egur_core.strategy.model import Strategy as StrategyModel
from egur_core.strategy.validation import ValidationIssue, validate_strategy

GUIDE_MARKER = "You are the Guide of an experience-guided reasoning system."
CONTEXT_HEADER = "GUIDE_CONTEXT"

STRATEGY_FORMAT = """A strategy is a JSON object: {"name", "summary", "budget": {"max_calls", "max_tokens",
"max_seconds", "max_cost_usd" (optional, dollars)}, "steps": [...]}; its paradigm is derived from the steps (agentic
when an agent step is present), so leave "paradigm" out. Steps run in order; each has a unique "id" and an "op".
Templates read variables with {name}; {problem} is always set; {name?} reads a variable that may be unset.
Optional sampling knobs on llm, agent, select and verify: seed, stop [strings], reasoning_effort
("low"|"medium"|"high"), presence_penalty, frequency_penalty (-2..2).
- llm: model (alias), system, prompt, temperature (0-2), top_p, max_tokens, n (samples; out becomes a list), out
- tool: tool (name), input (template), timeout_s (<=120), memory_mb (128-2048), out
- agent: model, system, prompt, tools [names] (called natively), max_steps, temperature, max_tokens, timeout_s,
  memory_mb, out
- vote: from (a variable or a list of variables, e.g. ["code_out", "cot", "solver_out"]), out  -- majority over
  their final answers; ties go to the first source; a failed tool casts no vote
- select: from (variable or list), model, system, prompt (criterion), temperature, out  -- an LLM judge picks one
- verify: method "llm" (model, system, prompt, temperature; PASS/FAIL) or "tool" (tool, input); flag (bool
  variable); feedback (optional variable)
- gather: from [variables], out  -- one list of their values (lists flattened)
- extract: from (variable holding JSON), path ("answer", "result.items[0].name"), default (optional), out
- branch: if (variable), then (a later step id), else (optional later step id)
- loop: max_iters (1-20), until (flag set in the body), body [steps]
- answer: from (one value, not a list of samples: vote or select first)  -- returns it; the final answer should end
  with 'The answer is: <answer>'"""


class CandidatePlan(BaseModel):
    rationale: str = Field("", description="why this strategy fits this problem, in one or two sentences")
    strategy: dict[str, Any] = Field(description="the strategy JSON object")


class GuideReply(BaseModel):
    candidates: list[CandidatePlan] = Field(default_factory=list)


class ProposedCandidate(BaseModel):
    index: int
    rationale: str = ""
    strategy: StrategyModel | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    issues: list[ValidationIssue] = Field(default_factory=list)
    from_library: int | None = Field(None, description="library entry id when the strategy is a cached one")


class GuideOutcome(UsageTotals):
    candidates: list[ProposedCandidate] = Field(default_factory=list)

    @property
    def valid(self) -> list[ProposedCandidate]:
        return [c for c in self.candidates if c.strategy is not None]


def library_view(retrieved: Retrieved) -> list[dict]:
    """Retrieved library entries as the Guide and the Consolidator see them: measured stats and the strategy."""
    return [{"entry_id": e.entry_id, "similarity": round(e.similarity, 3), "signature": e.signature[:300],
             "uses": e.uses, "successes": e.successes,
             "success_rate": round(e.successes / e.uses, 3) if e.uses else None,
             "mean_cost_usd": round(e.total_cost / e.uses, 6) if e.uses else None, "pinned": e.pinned,
             "strategy_name": e.strategy.name, "strategy_hash": e.strategy_hash, "strategy": e.strategy.to_json_dict()}
            for e in retrieved.entries]


def notes_view(retrieved: Retrieved) -> list[dict]:
    return [{"note_id": n.note_id, "text": n.text, "helpful": n.helpful, "harmful": n.harmful, "pinned": n.pinned}
            for n in retrieved.notes]


def guide_messages(problem: str, k: int, library: list[dict], notes: list[dict], tools: list[dict],
                   models: list[dict]) -> list[dict]:
    context = {"problem": problem, "k": k, "library": library, "notes": notes, "tools": tools, "models": models}
    system = (
        f"{GUIDE_MARKER} For each problem you write {k} diverse candidate strategies that will all be executed; "
        "the best one is cached for similar problems. Use the memory: reuse a library strategy that has worked on "
        "similar problems (its success rate and mean cost are measured), follow the notes, and prefer the cheapest "
        "strategy that is likely to be right. Tools run for real (a Python sandbox, a SAT solver, a calculator). "
        "Keep budgets tight.\n\n" + STRATEGY_FORMAT + f"\nStep kinds: {', '.join(STEP_KINDS)}.\n\n"
        'Reply with JSON only: {"candidates": [{"rationale": "...", "strategy": {...}}, ...]}'
    )
    user = context_block(CONTEXT_HEADER, context) + f"Write {k} candidate strategies for this problem."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def propose_strategies(
    llm: StructuredModel,
    messages: list[dict],
    *,
    k: int,
    alias: str,
    known_tools: Collection[str],
    known_models: Collection[str],
    max_tokens: int = 6000,
) -> GuideOutcome:
    """Ask the Guide; validate each candidate; never raise for a bad reply."""
    outcome = GuideOutcome()
    reply = await call_role(llm, messages, GuideReply, outcome, alias=alias, role="guide", max_tokens=max_tokens)
    if reply is None:
        return outcome
    for index, plan in enumerate(reply.candidates[:k]):
        strategy, issues = validate_strategy(plan.strategy, known_tools, known_models)
        outcome.candidates.append(ProposedCandidate(
            index=index, rationale=plan.rationale, raw=plan.strategy, issues=issues,
            strategy=strategy if not issues else None,
        ))
    if not outcome.valid:
        outcome.error = "the Guide proposed no valid strategy"
    return outcome
