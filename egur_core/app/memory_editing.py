"""Pure helpers behind the Memory page's grids: table edits -> memory ops (views: ``memory_views.py``).

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
