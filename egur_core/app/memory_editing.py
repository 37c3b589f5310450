"""Pure helpers behind the Memory page: table edits -> memory ops, proposal diffs, usefulness.

Nothing here touches the database or Streamlit. The page shows library entries and notes in an
editable grid; the grid reports what changed as positions (``{"edited_rows": {pos: {col: v}},
"added_rows": [{col: v}], "deleted_rows": [pos]}``) and :func:`diff_to_ops` turns that into
:mod:`egur_core.memory.ops` ops, which the page applies in one transaction as actor ``"person"``.

>>> import pandas as pd
>>> df = notes_frame(pd.DataFrame([{"note_id": 7, "text": "Check parity.", "benchmark": "sat3",
...     "helpful": 1, "harmful": 0, "retrievals": 3, "pinned": False, "banned": False}]))
>>> [op.op for op in diff_to_ops(df, {"edited_rows": {0: {"pinned": True}}}, kind="notes")]
['update_note']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from egur_core.memory.ops import AddEntry, AddNote, DeleteEntry, DeleteNote, MemoryOp, UpdateEntry, UpdateNote

Kind = Literal["entries", "notes"]

ENTRY_COLUMNS = ["entry_id", "signature", "benchmark", "strategy", "uses", "success_rate", "mean_cost",
                 "retrievals", "pinned", "banned"]
NOTE_COLUMNS = ["note_id", "text", "benchmark", "helpful", "harmful", "retrievals", "pinned", "banned"]
# What a person may change in place; everything else is measured or identifying.
EDITABLE = {"entries": ("signature", "strategy", "pinned", "banned"), "notes": ("text", "pinned", "banned")}
ADDABLE = {"entries": ("signature", "benchmark", "strategy", "pinned", "banned"),
           "notes": ("text", "benchmark", "pinned", "banned")}


class EditError(ValueError):
    """The grid holds a change that cannot become an op (e.g. an empty signature). Nothing applied."""


def strategy_choice(name: str | None, strategy_hash: str) -> str:
    """How a strategy appears in the grid's dropdown: ``name · hash``."""
    return f"{name or 'unnamed'} · {strategy_hash}"


def choice_hash(choice: str | None) -> str | None:
    """The hash back out of :func:`strategy_choice` (or a bare hash)."""
    if not choice or not str(choice).strip():
        return None
    return str(choice).rsplit("·", 1)[-1].strip()


def entries_frame(entries: pd.DataFrame) -> pd.DataFrame:
    """The grid for library entries: a RangeIndex, ``Int64`` ids, the strategy as ``name · hash``."""
    if entries.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in ENTRY_COLUMNS})
    df = entries.copy()
    df["strategy"] = [strategy_choice(n, h) for n, h in zip(df["strategy_name"], df["strategy_hash"])]
    return _typed(df[ENTRY_COLUMNS])


def notes_frame(notes: pd.DataFrame) -> pd.DataFrame:
    if notes.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in NOTE_COLUMNS})
    return _typed(notes[NOTE_COLUMNS].copy())


def _dtype(column: str) -> str:
    if column in ("entry_id", "note_id", "uses", "retrievals", "helpful", "harmful"):
        return "Int64"
    if column in ("pinned", "banned"):
        return "bool"
    if column in ("success_rate", "mean_cost"):
        return "float64"
    return "object"


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    for column in df.columns:
        df[column] = df[column].astype(_dtype(column))
    return df


def diff_to_ops(
    df: pd.DataFrame, state: Mapping[str, Any] | None, kind: Kind = "entries",
    strategies: Mapping[str, dict] | None = None,
) -> list[MemoryOp]:
    """Turn the grid's edit state into ops: deletes, then updates, then additions.

    Args:
        df: exactly the frame the grid showed (positions in ``state`` index into it).
        state: the ``st.data_editor`` state; ``None`` or empty means no change.
        kind: ``"entries"`` (library) or ``"notes"``.
        strategies: hash -> strategy JSON, for entries added in the grid (they name a strategy).

    Raises:
        EditError: a row cannot become an op; the message names the row and the fix.
    """
    state = state or {}
    key = "entry_id" if kind == "entries" else "note_id"
    deleted = {_pos(p) for p in state.get("deleted_rows", [])}
    ops: list[MemoryOp] = []
    for pos in sorted(deleted):
        ops.append(_delete(kind, _item_id(df, pos, key)))
    for raw_pos, changes in sorted(state.get("edited_rows", {}).items(), key=lambda kv: _pos(kv[0])):
        pos = _pos(raw_pos)
        if pos in deleted:
            continue
        op = _update(kind, df, pos, key, changes, strategies or {})
        if op is not None:
            ops.append(op)
    for number, row in enumerate(state.get("added_rows", []), start=1):
        op = _add(kind, row, number, strategies or {})
        if op is not None:
            ops.append(op)
    return ops


def _pos(raw: Any) -> int:
    return int(raw)


def _item_id(df: pd.DataFrame, pos: int, key: str) -> int:
    if pos < 0 or pos >= len(df):
        raise EditError(f"row {pos + 1} is no longer in the table; reload the page and edit again")
    return int(df.iloc[pos][key])


def _delete(kind: Kind, item_id: int) -> MemoryOp:
    if kind == "entries":
        return DeleteEntry(entry_id=item_id, reason="deleted in the dashboard")
    return DeleteNote(note_id=item_id, reason="deleted in the dashboard")


def _update(
    kind: Kind, df: pd.DataFrame, pos: int, key: str, changes: Mapping[str, Any], strategies: Mapping[str, dict],
) -> MemoryOp | None:
    item_id = _item_id(df, pos, key)
    original = df.iloc[pos]
    fields: dict[str, Any] = {}
    for column, value in changes.items():
        if _same(original.get(column), value):
            continue
        if column not in EDITABLE[kind]:
            raise EditError(f"{kind[:-1]} {item_id}: its {column} cannot be changed (only new rows set it)")
        if column == "strategy":
            strategy_hash = choice_hash(value)
            if strategy_hash not in strategies:
                raise EditError(f"entry {item_id}: pick one of the stored strategies")
            fields["strategy"] = strategies[strategy_hash]
        elif column in ("pinned", "banned"):
            fields[column] = bool(value)
        else:
            text = "" if value is None else str(value).strip()
            if not text:
                what = "signature" if kind == "entries" else "text"
                raise EditError(f"{kind[:-1]} {item_id}: the {what} cannot be empty (delete the row instead)")
            fields[column] = text
    if not fields:
        return None
    if kind == "entries":
        return UpdateEntry(entry_id=item_id, reason="edited in the dashboard", **fields)
    return UpdateNote(note_id=item_id, reason="edited in the dashboard", **fields)


def _same(old: Any, new: Any) -> bool:
    if old is None or (not isinstance(old, str) and pd.isna(old)):
        return new is None or new == ""
    if isinstance(old, bool) or hasattr(old, "dtype") and str(getattr(old, "dtype", "")) == "bool":
        return bool(old) == bool(new)
    return old == new


def _add(kind: Kind, row: Mapping[str, Any], number: int, strategies: Mapping[str, dict]) -> MemoryOp | None:
    values = {c: row.get(c) for c in ADDABLE[kind]}
    if all(v in (None, "", False) for v in values.values()):
        return None  # an empty row the person added and left blank
    if values.get("pinned") or values.get("banned"):
        raise EditError(f"new row {number}: save it first, then tick pinned/banned (new rows start unpinned)")
    text_col = "signature" if kind == "entries" else "text"
    text = str(values[text_col] or "").strip()
    if not text:
        raise EditError(f"new row {number}: fill in the {text_col}")
    benchmark = str(values["benchmark"] or "").strip()
    if kind == "notes":
        return AddNote(text=text, benchmark=benchmark, reason="added in the dashboard")
    strategy_hash = choice_hash(values["strategy"])
    if strategy_hash is None:
        raise EditError(f"new row {number}: pick the strategy this entry should run")
    if strategy_hash not in strategies:
        raise EditError(f"new row {number}: unknown strategy {strategy_hash!r}")
    return AddEntry(signature=text, strategy=strategies[strategy_hash], benchmark=benchmark,
                    reason="added in the dashboard")


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
