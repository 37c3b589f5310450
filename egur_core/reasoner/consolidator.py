"""The Consolidator: turns one problem's execution feedback into delta edits of the memory.

It sees the problem, every candidate with its outcome (correct, cost, a trace summary) and the
memory that was retrieved, and returns memory ops (add / update / merge / delete entries and
notes, helpful/harmful ratings), never a rewrite. Ops that refer to things it was not shown, that
pin or unpin, or that fail validation, are dropped with a reason, so one confused (or injected)
reply cannot wreck the memory; the store then drops any op on a pinned item, also with the reason.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from egur_core.memory.ops import MemoryOp, MergeEntries, MergeNotes, OpList, UpdateEntry, UpdateNote
from egur_core.reasoner.role_calls import StructuredModel, UsageTotals, call_role, context_block
from egur_core.strategy.validation import validate_strategy

CONSOLIDATOR_MARKER = "You are the Consolidator of an experience-guided reasoning system."
CONTEXT_HEADER = "CONSOLIDATOR_CONTEXT"


class ConsolidatorReply(BaseModel):
    summary: str = Field("", description="what was learned from this problem, in one sentence")
    ops: list[dict[str, Any]] = Field(default_factory=list, description="memory ops")


class ConsolidationOutcome(UsageTotals):
    ops: list[MemoryOp] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="ops refused, with the reason")
    summary: str = ""


def consolidator_messages(problem: str, benchmark: str, candidates: list[dict], library: list[dict],
                          notes: list[dict], label_free: bool) -> list[dict]:
    # what changes least comes first, so a provider's prefix cache serves as much of the prompt as it can
    context = {"benchmark": benchmark, "feedback": "label-free" if label_free else "label", "library": library,
               "notes": notes, "problem": problem[:3000], "candidates": candidates}
    system = (
        f"{CONSOLIDATOR_MARKER} After each problem you edit the memory so that the next strategies are more "
        "accurate and cheaper. Return delta operations only, never a rewrite:\n"
        "- add_entry {signature, strategy, benchmark}: cache the cheapest strategy that was right, for problems "
        "like this one (signature describes them)\n"
        "- update_entry {entry_id, strategy?, signature?}: replace a cached strategy by a cheaper or better one\n"
        "- merge_entries {keep_id, drop_ids}, delete_entry {entry_id}: remove duplicates and strategies that "
        "keep failing\n"
        "- add_note {text, benchmark}: a short, reusable insight (<= 2 sentences)\n"
        "- update_note {note_id, text}, merge_notes {keep_id, drop_ids, text?}, delete_note {note_id}\n"
        "- rate_note {note_id, helpful, harmful}: whether a note helped on this problem\n"
        "Only refer to ids you were shown. Every op may carry a one-sentence 'reason'.\n"
        "Each candidate's 'correct' has a 'feedback_source': label (the gold answer), verifier (a check that "
        "needs no label), agreement (two candidates agreed), failed (no answer), or none (nothing could tell: "
        "do not cache or judge a strategy on it).\n"
        'Reply with JSON only: {"summary": "...", "ops": [{"op": "...", ...}]}'
    )
    user = context_block(CONTEXT_HEADER, context) + "Edit the memory."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def consolidate(
    llm: StructuredModel,
    messages: list[dict],
    *,
    alias: str,
    shown_entries: set[int],
    shown_notes: set[int],
    max_ops: int = 8,
) -> ConsolidationOutcome:
    outcome = ConsolidationOutcome()
    reply = await call_role(llm, messages, ConsolidatorReply, outcome, alias=alias, role="consolidator",
                            max_tokens=3000)
    if reply is None:
        return outcome
    outcome.summary = reply.summary
    for raw in reply.ops[:max_ops]:
        op, reason = _checked_op(raw, shown_entries, shown_notes)
        if op is None:
            outcome.dropped.append(reason)
        else:
            outcome.ops.append(op)
    return outcome


def _checked_op(raw: dict[str, Any], shown_entries: set[int], shown_notes: set[int]) -> tuple[MemoryOp | None, str]:
    try:
        op = OpList.model_validate({"ops": [raw]}).ops[0]
    except ValidationError as exc:
        return None, f"{raw.get('op', '?')}: {exc.errors()[0]['msg']}"
    if isinstance(op, UpdateEntry | UpdateNote) and op.pinned is not None:
        return None, f"{op.op}: only a person can pin or unpin"
    for ref in _entry_refs(op):
        if ref not in shown_entries:
            return None, f"{op.op}: entry {ref} was not shown to the Consolidator"
    for ref in _note_refs(op):
        if ref not in shown_notes:
            return None, f"{op.op}: note {ref} was not shown to the Consolidator"
    strategy = getattr(op, "strategy", None)
    if strategy is not None:
        _, issues = validate_strategy(strategy)
        if issues:
            return None, f"{op.op}: strategy invalid ({issues[0]})"
    return op, ""


def _entry_refs(op: MemoryOp) -> list[int]:
    if isinstance(op, MergeEntries):
        return [op.keep_id, *op.drop_ids]
    entry_id = getattr(op, "entry_id", None)
    return [entry_id] if entry_id is not None else []


def _note_refs(op: MemoryOp) -> list[int]:
    if isinstance(op, MergeNotes):
        return [op.keep_id, *op.drop_ids]
    note_id = getattr(op, "note_id", None)
    return [note_id] if note_id is not None else []


