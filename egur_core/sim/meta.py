"""The simulated Guide and Consolidator: they read their JSON context and answer with JSON.

The Guide explores templates at random while the memory is empty; with experience it puts the
library's best proven strategy first, tries a cheaper variant of it, and follows the notes.
The Consolidator caches the cheapest strategy that was right, replaces costlier cached ones,
writes one-line notes, rates notes, and deletes entries that keep failing.
"""

from __future__ import annotations

import json
import random
from typing import Any

from egur_core.reasoner.compact import Overrides, apply_overrides
from egur_core.reasoner.consolidator import CONTEXT_HEADER as CONSOLIDATOR_HEADER
from egur_core.reasoner.guide import CATALOG_HEADER as GUIDE_CATALOG
from egur_core.reasoner.guide import CONTEXT_HEADER as GUIDE_HEADER
from egur_core.reasoner.role_calls import parse_context
from egur_core.sim import oracle
from egur_core.sim.strategies import cheaper_overrides, cheaper_variant, template_pool
from egur_core.strategy.model import Strategy

PROVEN_SCORE = 0.5
SATISFIED = 0.8  # below this smoothed success rate the Guide keeps looking for a better strategy
ROBUST = ("escalate-cheap-strong", "pips-loop-cheap-3", "cot-strong", "sc-5-cheap")


def is_guide(messages: list[dict]) -> bool:
    return any(GUIDE_HEADER in (m.get("content") or "") for m in messages)


def is_consolidator(messages: list[dict]) -> bool:
    return any(CONSOLIDATOR_HEADER in (m.get("content") or "") for m in messages)


def _smoothed_rate(entry: dict) -> float:
    """Laplace-smoothed success rate: an entry used once and right once is not yet "proven"."""
    uses = entry.get("uses") or 0
    successes = entry.get("successes")
    if successes is None:
        successes = round((entry.get("success_rate") or 0.0) * uses)
    return (successes + 1) / (uses + 2)


def guide_reply(messages: list[dict], rng: random.Random, compact: bool = True) -> str:
    context = {**(parse_context(messages, GUIDE_CATALOG) or {}), **(parse_context(messages, GUIDE_HEADER) or {})}
    k = int(context.get("k", 3))
    tools = [t.get("name", "") for t in context.get("tools", [])]
    pool = template_pool(tools)
    candidates: list[dict] = []
    best = _best_entry(context.get("library", []))
    if best is not None:
        reuse = f"Reuse library entry {best['entry_id']}: right {best.get('successes', 0)}/{best.get('uses', 0)} " \
                "times on similar problems."
        candidates.append({"rationale": reuse, "use": f"entry:{best['entry_id']}"} if compact
                          else {"rationale": reuse, "strategy": best["strategy"]})
        variant = cheaper_variant(best["strategy"])
        if variant is not None and len(candidates) < k:
            cheaper = {"rationale": "A cheaper variant of the proven strategy.", "strategy": variant}
            overrides = cheaper_overrides(best["strategy"]) if compact else None
            candidates.append({**cheaper, "use": f"entry:{best['entry_id']}", "set": overrides, "strategy": None}
                              if overrides and _same_steps(best["strategy"], overrides, variant) else cheaper)
    weights = {name: weight * _note_boost(name, context.get("notes", [])) for name, (weight, _) in pool.items()}
    if best is None or _smoothed_rate(best) < SATISFIED:  # not good enough yet: try the robust, dearer ideas
        for name in ROBUST:
            if name in weights:
                weights[name] *= 2.5
    used = {(c.get("strategy") or best["strategy"])["name"] for c in candidates}
    while len(candidates) < k and len(used) < len(pool):
        name = _weighted_choice({n: w for n, w in weights.items() if n not in used}, rng)
        used.add(name)
        candidates.append({"rationale": f"Explore '{name}'.", "strategy": pool[name][1]})
    return json.dumps({"candidates": candidates[:k]})


def _same_steps(strategy: dict, overrides: dict, variant: dict) -> bool:
    """Whether the compact form says exactly what the variant does (then the Guide may write it compactly)."""
    try:
        changed, issues = apply_overrides(Strategy.model_validate(strategy), Overrides.model_validate(overrides))
        expected = Strategy.model_validate(variant).to_json_dict()["steps"]
        return not issues and changed.to_json_dict()["steps"] == expected
    except ValueError:
        return False


def _best_entry(library: list[dict]) -> dict | None:
    scored = [(e.get("similarity", 1.0) * _smoothed_rate(e), -(e.get("mean_cost_usd") or 0.0), e) for e in library
              if isinstance(e.get("strategy"), dict)]
    if not scored:
        return None
    score, _, entry = max(scored, key=lambda item: (item[0], item[1]))
    return entry if score >= PROVEN_SCORE else None


def _note_boost(template: str, notes: list[dict]) -> float:
    boost = 1.0
    for note in notes:
        if f"'{template}'" in note.get("text", ""):
            boost *= 6.0 if note.get("helpful", 0) >= note.get("harmful", 0) else 0.3
    return boost


def _weighted_choice(weights: dict[str, float], rng: random.Random) -> str:
    total = sum(weights.values())
    pick = rng.random() * total
    for name, weight in weights.items():
        pick -= weight
        if pick <= 0:
            return name
    return next(iter(weights))


def consolidator_reply(messages: list[dict]) -> str:
    context = parse_context(messages, CONSOLIDATOR_HEADER) or {}
    candidates = context.get("candidates", [])
    library, notes = context.get("library", []), context.get("notes", [])
    benchmark = context.get("benchmark") or oracle.identify(context.get("problem", "")).family
    right = sorted((c for c in candidates if c.get("correct")), key=lambda c: c.get("cost_usd", 0.0))
    ops: list[dict[str, Any]] = []
    if right:
        # cache the two cheapest right strategies: one lucky success says little, measured stats decide later
        cached: set[str] = set()
        for candidate in right[:2]:
            if candidate.get("strategy_hash") not in cached:
                ops += _cache_best(candidate, library, context.get("problem", ""), benchmark)
                cached.add(candidate.get("strategy_hash"))
        ops += _notes_for_success(right[0], notes, benchmark)
    else:
        ops += _note_for_failure(candidates, notes, benchmark)
    ops += _rate_failures(candidates, notes)
    ops += [{"op": "delete_entry", "entry_id": e["entry_id"], "reason": "keeps failing"} for e in library
            if e.get("uses", 0) >= 4 and _smoothed_rate(e) < 0.35 and not e.get("pinned")]
    summary = f"'{right[0]['strategy_name']}' was the cheapest right strategy." if right else "No candidate was right."
    return json.dumps({"summary": summary, "ops": ops})


def _cache_best(best: dict, library: list[dict], problem: str, benchmark: str) -> list[dict]:
    if any(e.get("strategy_hash") == best.get("strategy_hash") for e in library):
        return []
    base_name = best["strategy_name"].split("~")[0]
    costlier = [e for e in library if e.get("strategy_name", "").split("~")[0] == base_name and not e.get("pinned")
                and (e.get("mean_cost_usd") or 0) > 1.2 * best.get("cost_usd", 0) + 1e-9]
    if costlier:
        return [{"op": "update_entry", "entry_id": costlier[0]["entry_id"], "strategy": best["strategy"],
                 "reason": f"'{best['strategy_name']}' was right for less (${best.get('cost_usd', 0):.4f})."}]
    signature = f"{benchmark} problems that '{base_name}' solves, e.g. {problem[:200]}"
    return [{"op": "add_entry", "signature": signature, "strategy": best["strategy"], "benchmark": benchmark,
             "reason": f"'{best['strategy_name']}' was the cheapest right strategy."}]


def _mentions(note: dict, name: str) -> bool:
    return f"'{name.split('~')[0]}'" in note.get("text", "")


def _notes_for_success(best: dict, notes: list[dict], benchmark: str) -> list[dict]:
    name = best["strategy_name"].split("~")[0]
    helpful = [n for n in notes if _mentions(n, name)]
    if helpful:
        return [{"op": "rate_note", "note_id": n["note_id"], "helpful": 1} for n in helpful]
    text = f"For {benchmark} problems, '{name}' was right at ${best.get('cost_usd', 0):.4f} per problem."
    return [{"op": "add_note", "text": text, "benchmark": benchmark, "reason": "a strategy that works"}]


def _note_for_failure(candidates: list[dict], notes: list[dict], benchmark: str) -> list[dict]:
    names = sorted({c.get("strategy_name", "?").split("~")[0] for c in candidates})
    text = f"On a hard {benchmark} problem, {', '.join(repr(n) for n in names)} were all wrong."
    if any(n.get("text", "").startswith(f"On a hard {benchmark} problem") for n in notes) or not names:
        return []
    return [{"op": "add_note", "text": text, "benchmark": benchmark, "reason": "remember what did not work"}]


def _rate_failures(candidates: list[dict], notes: list[dict]) -> list[dict]:
    failed = {c.get("strategy_name", "").split("~")[0] for c in candidates if c.get("correct") is False}
    succeeded = {c.get("strategy_name", "").split("~")[0] for c in candidates if c.get("correct")}
    return [{"op": "rate_note", "note_id": n["note_id"], "harmful": 1} for n in notes
            if " was right " in n.get("text", "") and any(_mentions(n, name) for name in failed - succeeded)]
