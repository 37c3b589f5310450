"""The Guide: one structured LLM call that writes k candidate strategies for a problem.

It sees the problem, the retrieved library entries (with their measured stats), the notes, and the
tool and model catalogues. The endpoint is asked to decode under the real strategy schema
(:class:`GuideReplySchema`: a closed union over the step kinds with their bounds), so a
constrained decoder cannot write a structurally invalid strategy even from a small model; what is
left for validation is the cross-step checks. A candidate may also be compact: reuse a library
entry or a shipped strategy with a few overrides (``compact.py``). Each candidate is validated on
its own: an invalid one is kept with its issues, and when none is valid the Guide gets one repair
turn with the issues before the loop falls back.

The prompt puts what is stable first (instructions, strategy format, tool and model catalogues, in
the system message) and what changes last (memory and problem), so providers' prefix caching applies.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from egur_core.memory.records import Retrieved
from egur_core.reasoner.compact import Overrides, apply_overrides, resolve_use
from egur_core.reasoner.role_calls import StructuredModel, UsageTotals, call_role, context_block
from egur_core.strategy.model import STEP_KINDS
from egur_core.strategy.model import Strategy as StrategyModel
from egur_core.strategy.roles import ROLES, TIERS
from egur_core.strategy.validation import ValidationIssue, validate_strategy

GUIDE_MARKER = "You are the Guide of an experience-guided reasoning system."
CONTEXT_HEADER = "GUIDE_CONTEXT"
CATALOG_HEADER = "GUIDE_CATALOG"

STRATEGY_FORMAT = """A strategy is a JSON object: {"name", "summary", "budget": {"max_calls", "max_tokens",
"max_seconds", "max_cost_usd" (optional, dollars)}, "steps": [...]}; its paradigm is derived from the steps (agentic
when an agent step is present), so leave "paradigm" out. Steps run in order; each has a unique "id" and an "op".
Templates read variables with {name}; {problem} is always set; {name?} reads a variable that may be unset.
Optional sampling knobs on llm, agent, select and verify: seed, stop [strings], reasoning_effort
("low"|"medium"|"high"), presence_penalty, frequency_penalty (-2..2).
- llm: model, system, prompt, temperature (0-2), top_p, max_tokens, n (samples; out becomes a list), out
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
  with 'The answer is: <answer>'
A "model" is a tier (""" + ", ".join(TIERS) + ") or a role (" + ", ".join(ROLES) + """), which the settings map to
real models. Instead of a whole strategy, a candidate may reuse one: {"use": "entry:<id>" (a library entry shown to
you) or the name of a shipped strategy, "set": {"model", "temperature", "n", "max_iters", "prompt"}} changes only
what "set" gives ("prompt" is a new system prompt for the first model step). A whole strategy written from one
you were shown names it in "use" too, so its lineage is kept."""


class CandidatePlan(BaseModel):
    """One candidate as the reply is parsed: leniently, so each candidate is validated on its own."""

    rationale: str = Field("", description="why this strategy fits this problem, in one or two sentences")
    use: str | int | None = Field(None, description="reuse: 'entry:<id>' or a shipped strategy's name")
    set: dict[str, Any] | None = Field(None, description="overrides for a reused strategy")
    strategy: dict[str, Any] | None = Field(None, description="a whole strategy")


class GuideReply(BaseModel):
    candidates: list[CandidatePlan] = Field(default_factory=list)


class CandidateSchema(BaseModel):
    """One candidate as the endpoint is asked to decode it: either ``use`` (+ ``set``) or a ``strategy``."""

    model_config = ConfigDict(extra="forbid")

    rationale: str = Field(max_length=600)
    use: str | None = Field(None, max_length=120)
    set: Overrides | None = None
    strategy: StrategyModel | None = None


class GuideReplySchema(BaseModel):
    """The Guide's reply schema sent to the endpoint: the real strategy schema, closed and bounded."""

    model_config = ConfigDict(extra="forbid", title="GuideReply")

    candidates: list[CandidateSchema] = Field(min_length=1, max_length=8)


class ProposedCandidate(BaseModel):
    index: int
    rationale: str = ""
    strategy: StrategyModel | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    issues: list[ValidationIssue] = Field(default_factory=list)
    from_library: int | None = Field(None, description="library entry id when the strategy is a cached one")
    parent_hash: str | None = Field(None, description="the strategy a compact candidate changed")
    origin: str = Field("guide", description="guide, guide-compact, exploit, fallback")


class GuideOutcome(UsageTotals):
    candidates: list[ProposedCandidate] = Field(default_factory=list)
    repaired: bool = Field(False, description="a repair turn was needed")

    @property
    def valid(self) -> list[ProposedCandidate]:
        return [c for c in self.candidates if c.strategy is not None]


class Catalogue(BaseModel):
    """What a candidate may refer to: tools and model names for validation, strategies for ``use``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tools: Collection[str]
    models: Collection[str]
    library: Mapping[int, StrategyModel] = Field(default_factory=dict)
    shipped: Mapping[str, StrategyModel] = Field(default_factory=dict)


def library_view(retrieved: Retrieved) -> list[dict]:
    """Retrieved library entries as the Guide and the Consolidator see them: measured stats and the strategy."""
    return [{"entry_id": e.entry_id, "similarity": round(e.similarity, 3), "signature": e.signature[:300],
             "uses": e.uses, "successes": e.successes,
             "success_rate": round(e.successes / e.uses, 3) if e.uses else None,
             "mean_cost_usd": round(e.total_cost / e.uses, 6) if e.uses else None, "pinned": e.pinned,
             "strategy_name": e.strategy.name, "strategy_hash": e.strategy_hash, "strategy": e.strategy.to_brief_dict()}
            for e in retrieved.entries]


def notes_view(retrieved: Retrieved) -> list[dict]:
    return [{"note_id": n.note_id, "text": n.text, "helpful": n.helpful, "harmful": n.harmful, "pinned": n.pinned}
            for n in retrieved.notes]


def guide_messages(problem: str, k: int, library: list[dict], notes: list[dict], tools: list[dict],
                   models: list[dict], shipped: list[str] | None = None) -> list[dict]:
    catalog = {"tools": tools, "models": models, "shipped_strategies": shipped or []}
    system = (
        f"{GUIDE_MARKER} For each problem you write diverse candidate strategies that will all be executed; "
        "the best one is cached for similar problems. Use the memory: reuse a library strategy that has worked on "
        "similar problems (its success rate and mean cost are measured), follow the notes, and prefer the cheapest "
        "strategy that is likely to be right. Tools run for real (a Python sandbox, a SAT solver, a calculator). "
        "Keep budgets tight.\n\n" + STRATEGY_FORMAT + f"\nStep kinds: {', '.join(STEP_KINDS)}.\n\n"
        + context_block(CATALOG_HEADER, catalog)
        + '\nReply with JSON only: {"candidates": [{"rationale": "...", "strategy": {...}} or '
        '{"rationale": "...", "use": "...", "set": {...}}, ...]}'
    )
    context = {"k": k, "library": library, "notes": notes, "problem": problem}  # the problem last: caching
    user = context_block(CONTEXT_HEADER, context) + f"Write {k} candidate strategies for this problem."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def propose_strategies(llm: StructuredModel, messages: list[dict], *, k: int, alias: str,
                             catalogue: Catalogue, max_tokens: int = 6000) -> GuideOutcome:
    """Ask the Guide; validate each candidate; one repair turn when none is valid; never raise for a bad reply."""
    outcome = GuideOutcome()
    reply = await _ask(llm, messages, outcome, alias=alias, max_tokens=max_tokens)
    if reply is None:
        return outcome
    outcome.candidates = [_candidate(i, plan, catalogue) for i, plan in enumerate(reply.candidates[:k])]
    if not outcome.valid and outcome.candidates:
        outcome.repaired = True
        repair = [*messages, {"role": "assistant", "content": reply.model_dump_json()[:6000]},
                  {"role": "user", "content": _repair_request(outcome.candidates)}]
        again = await _ask(llm, repair, outcome, alias=alias, max_tokens=max_tokens)
        if again is not None:
            outcome.candidates = [_candidate(i, plan, catalogue) for i, plan in enumerate(again.candidates[:k])]
    if not outcome.valid:
        outcome.error = outcome.error or "the Guide proposed no valid strategy" + (
            " (after a repair turn)" if outcome.repaired else "")
    return outcome


async def _ask(llm: StructuredModel, messages: list[dict], outcome: GuideOutcome, *, alias: str,
               max_tokens: int) -> GuideReply | None:
    return await call_role(llm, messages, GuideReply, outcome, alias=alias, role="guide", max_tokens=max_tokens,
                           wire=GuideReplySchema)


def _repair_request(candidates: list[ProposedCandidate]) -> str:
    problems = "\n".join(f"- candidate {c.index}: " + "; ".join(str(i) for i in c.issues[:6]) for c in candidates)
    return (f"None of those candidates can run:\n{problems}\nReply again with the whole JSON object, every "
            "candidate fixed (or replaced by a reuse of a library entry or a shipped strategy).")


def _candidate(index: int, plan: CandidatePlan, catalogue: Catalogue) -> ProposedCandidate:
    """Expand a compact candidate, then validate: a candidate that fails keeps its issues."""
    raw = plan.model_dump(exclude_none=True)
    if plan.use is not None and plan.strategy is None:
        return _compact_candidate(index, plan, catalogue, raw)
    if plan.strategy is None:
        issue = ValidationIssue(path="$", message="a candidate needs a 'strategy' or a 'use'")
        return ProposedCandidate(index=index, rationale=plan.rationale, raw=raw, issues=[issue])
    strategy, issues = validate_strategy(plan.strategy, catalogue.tools, catalogue.models)
    return ProposedCandidate(index=index, rationale=plan.rationale, raw=raw, issues=issues,
                             strategy=strategy if not issues else None,
                             parent_hash=written_from(plan, strategy, catalogue) if not issues else None)


def written_from(plan: CandidatePlan, strategy: StrategyModel, catalogue: Catalogue) -> str | None:
    """The strategy a whole candidate was derived from, so lineage shows the tree: the one it names in ``use``,
    else a retrieved or shipped strategy whose name it extends (``cot-strong~cheaper``); None for a new idea."""
    reuse = resolve_use(plan.use, catalogue.library, catalogue.shipped) if plan.use is not None else None
    if reuse is None and "~" in strategy.name:
        base = strategy.name.split("~")[0]
        reuse = resolve_use(base, {}, {**catalogue.shipped, **{s.name: s for s in catalogue.library.values()}})
    return reuse.strategy.hash if reuse is not None and reuse.strategy.hash != strategy.hash else None


def _compact_candidate(index: int, plan: CandidatePlan, catalogue: Catalogue, raw: dict) -> ProposedCandidate:
    reuse = resolve_use(plan.use, catalogue.library, catalogue.shipped)
    if reuse is None:
        known = [f"entry:{i}" for i in catalogue.library] + list(catalogue.shipped)
        issue = ValidationIssue(path="$.use", message=f"nothing called {plan.use!r} to reuse (known: "
                                f"{', '.join(known) or 'none'})")
        return ProposedCandidate(index=index, rationale=plan.rationale, raw=raw, issues=[issue])
    try:
        overrides = Overrides.model_validate(plan.set) if plan.set else None
    except ValidationError as exc:
        issues = [ValidationIssue(path="$.set." + ".".join(map(str, e["loc"])), message=e["msg"]) for e in exc.errors()]
        return ProposedCandidate(index=index, rationale=plan.rationale, raw=raw, issues=issues)
    changed, override_issues = apply_overrides(reuse.strategy, overrides)
    strategy, issues = validate_strategy(changed, catalogue.tools, catalogue.models)
    issues = override_issues + issues
    same = changed.hash == reuse.strategy.hash
    return ProposedCandidate(
        index=index, rationale=plan.rationale, raw=raw, issues=issues, strategy=strategy if not issues else None,
        from_library=reuse.entry_id if same else None, parent_hash=None if same else reuse.strategy.hash,
        origin="guide-compact")
