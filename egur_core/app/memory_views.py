"""Pure helpers that show memory to a person: an op in one line, a proposal as a diff, what an item touched,
and how useful an entry or note has measurably been."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from egur_core.memory.ops import MemoryOp


def describe_op(op: MemoryOp | Mapping[str, Any]) -> str:
    """One human line for an op: ``update entry 3: pinned=True``."""
    data = op.model_dump() if hasattr(op, "model_dump") else dict(op)
    kind = str(data.get("op", "?"))
    verb, _, noun = kind.partition("_")
    ident = next((f"{noun.rstrip('s')} {data[k]}" for k in ("entry_id", "note_id", "keep_id") if k in data), noun)
    details = []
    for name in ("signature", "text", "pinned", "banned", "helpful", "harmful"):
        value = data.get(name)
        if value not in (None, "", 0) or (name in ("pinned", "banned") and value is False):
            details.append(f"{name}={_short(value)}")
    if data.get("drop_ids"):
        details.append(f"absorbs {', '.join(map(str, data['drop_ids']))}")
    if data.get("strategy"):
        details.append(f"strategy={data['strategy'].get('name', '?')}")
    return f"{verb} {ident}" + (f": {', '.join(details)}" if details else "")


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def proposal_diff(op: Mapping[str, Any], current: Mapping[str, Mapping[str, Any] | None]) -> pd.DataFrame:
    """Rows ``field | now | proposed`` for a queued op, against the items' current state.

    ``current`` maps ``"entry 3"``/``"note 5"`` to the item's row (``None`` if it no longer exists).
    """
    kind = str(op.get("op", ""))
    rows: list[dict[str, str]] = []

    def add(field: str, now: Any, proposed: Any) -> None:
        rows.append({"field": field, "now": _cell(now), "proposed": _cell(proposed)})

    if kind in ("add_entry", "add_note"):
        for name in ("signature", "text", "benchmark"):
            if name in op:
                add(name, None, op[name])
        if op.get("strategy"):
            add("strategy", None, f"{op['strategy'].get('name', '?')} ({len(op['strategy'].get('steps', []))} steps)")
    elif kind.startswith(("update_", "delete_", "rate_")):
        label = f"{'entry' if 'entry' in kind else 'note'} {op.get('entry_id', op.get('note_id'))}"
        row = current.get(label)
        if row is None:
            add(label, "(gone)", "—")
        elif kind.startswith("delete_"):
            add(label, _short(row.get("signature", row.get("text"))), "(deleted)")
        elif kind == "rate_note":
            add("helpful", row.get("helpful"), (row.get("helpful") or 0) + op.get("helpful", 0))
            add("harmful", row.get("harmful"), (row.get("harmful") or 0) + op.get("harmful", 0))
        else:
            for name in ("signature", "text", "pinned", "banned"):
                if op.get(name) is not None:
                    add(name, row.get(name), op[name])
            if op.get("strategy"):
                add("strategy", row.get("strategy_name"), op["strategy"].get("name", "?") + " (new version)")
    elif kind.startswith("merge_"):
        noun = "entry" if kind == "merge_entries" else "note"
        for item in [op.get("keep_id"), *op.get("drop_ids", [])]:
            row = current.get(f"{noun} {item}")
            text = _short(row.get("signature", row.get("text"))) if row else "(gone)"
            add(f"{noun} {item}", text, "kept" if item == op.get("keep_id") else f"merged into {op.get('keep_id')}")
        if op.get("signature") or op.get("text"):
            keep = current.get(f"{noun} {op.get('keep_id')}") or {}
            name = "signature" if noun == "entry" else "text"
            add(name, keep.get(name), op.get(name))
    return pd.DataFrame(rows, columns=["field", "now", "proposed"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def touched_items(op: Mapping[str, Any]) -> list[str]:
    """``["entry 3", ...]``: the items an op names, for fetching their current rows."""
    kind = str(op.get("op", ""))
    noun = "entry" if "entr" in kind else "note"
    ids = [op[k] for k in ("entry_id", "note_id", "keep_id") if k in op] + list(op.get("drop_ids", []))
    return [f"{noun} {i}" for i in ids]


def usefulness(retrieved: list[Mapping[str, Any]], problems: pd.DataFrame, benchmark: str | None) -> dict[str, Any]:
    """Measured usefulness of one library entry from what actually happened, not from the LLM.

    Args:
        retrieved: the entry's retrievals (``run_id``, ``idx``), from ``entry_provenance``.
        problems: finished problems of the runs involved (``run_id``, ``idx``, ``benchmark``,
            ``correct``, ``cost_usd``).
        benchmark: compare only against problems of this benchmark (the entry's own).

    Returns:
        ``with_n``, ``with_accuracy``, ``with_cost`` for problems that retrieved the entry and
        ``without_*`` for the other problems of the same benchmark in the same runs, plus deltas
        (``None`` when a side is empty).
    """
    if problems.empty:
        return {"with_n": 0, "without_n": 0, "with_accuracy": None, "without_accuracy": None,
                "with_cost": None, "without_cost": None, "accuracy_delta": None, "cost_delta": None}
    done = problems[problems["correct"].notna()] if "correct" in problems else problems
    if benchmark:
        done = done[done["benchmark"] == benchmark]
    hits = {(r["run_id"], int(r["idx"])) for r in retrieved}
    mask = [(run, int(idx)) in hits for run, idx in zip(done["run_id"], done["idx"])]
    with_, without = done[mask], done[[not m for m in mask]]

    def stats(part: pd.DataFrame) -> tuple[int, float | None, float | None]:
        if part.empty:
            return 0, None, None
        return len(part), float(part["correct"].astype(float).mean()), float(part["cost_usd"].astype(float).mean())

    wn, wa, wc = stats(with_)
    on, oa, oc = stats(without)
    return {"with_n": wn, "without_n": on, "with_accuracy": wa, "without_accuracy": oa,
            "with_cost": wc, "without_cost": oc,
            "accuracy_delta": None if wa is None or oa is None else wa - oa,
            "cost_delta": None if wc is None or oc is None else wc - oc}
