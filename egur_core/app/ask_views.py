"""Tables the Ask page draws from a question's state (pure: state in, DataFrame out)."""

from __future__ import annotations

import pandas as pd

from egur_core.reasoner.ask import AskState
from egur_core.reasoner.consolidator import ConsolidationOutcome
from egur_core.runtime.answers import extract_final_answer
from egur_core.runtime.trace import ExecutionResult


def retrieved_entries(state: AskState) -> pd.DataFrame:
    """Library entries the Guide was shown, nearest first, with their measured record."""
    return pd.DataFrame([{"entry": e.entry_id, "strategy": e.strategy.name, "similarity": round(e.similarity, 3),
                          "uses": e.uses, "right": e.successes, "mean $": e.mean_cost, "signature": e.signature[:200]}
                         for e in state.retrieved.entries],
                        columns=["entry", "strategy", "similarity", "uses", "right", "mean $", "signature"])


def retrieved_notes(state: AskState) -> pd.DataFrame:
    return pd.DataFrame([{"note": n.note_id, "text": n.text, "helpful": n.helpful, "harmful": n.harmful,
                          "pinned": n.pinned} for n in state.retrieved.notes],
                        columns=["note", "text", "helpful", "harmful", "pinned"])


def answers(state: AskState) -> pd.DataFrame:
    """One row per candidate that ran: its final answer, whether it counts, its cost and, once told, the verdict."""
    rows = []
    for c in state.ran:
        r = state.results[c.index]
        rows.append({"candidate": c.index + 1, "strategy": c.strategy.name if c.strategy else "",
                     "answer": extract_final_answer(r.answer or "") if r.ok else f"failed: {r.error}",
                     "chosen": c.index == state.chosen, "right": state.feedback.get(c.index),
                     "cost $": r.cost_usd, "calls": r.calls, "tokens": r.tokens_in + r.tokens_out,
                     "seconds": round(r.latency_s, 2)})
    return pd.DataFrame(rows, columns=["candidate", "strategy", "answer", "chosen", "right", "cost $", "calls",
                                       "tokens", "seconds"])


def trace(result: ExecutionResult) -> pd.DataFrame:
    """What each step did: its output (clipped), tokens, cost and time."""
    return pd.DataFrame([{"step": t.step_id + (f" #{t.iteration}" if t.iteration else ""), "op": t.op, "ok": t.ok,
                          "output": (t.output or t.error or "")[:300], "tokens": t.tokens_in + t.tokens_out,
                          "cost $": t.cost_usd, "seconds": round(t.latency_s, 3)} for t in result.trace],
                        columns=["step", "op", "ok", "output", "tokens", "cost $", "seconds"])


def edits(consolidation: ConsolidationOutcome | None) -> pd.DataFrame:
    """The Consolidator's proposed memory ops, each with its reason and what it would write."""
    rows = []
    for op in (consolidation.ops if consolidation else []):
        data = op.model_dump(exclude={"op", "reason"}, exclude_none=True)
        strategy = data.pop("strategy", None)
        if isinstance(strategy, dict):
            data["strategy"] = strategy.get("name", "?")
        rows.append({"edit": op.op, "reason": getattr(op, "reason", "") or "",
                     "details": ", ".join(f"{k}={str(v)[:120]}" for k, v in data.items())})
    return pd.DataFrame(rows, columns=["edit", "reason", "details"])


def costs(state: AskState) -> dict[str, float]:
    """The question's cost so far by role (the Guide, the candidates that ran, the Consolidator)."""
    return {"guide": state.guide.cost_usd, "executor": sum(r.cost_usd for r in state.results.values()),
            "consolidator": state.consolidation.cost_usd if state.consolidation else 0.0}
