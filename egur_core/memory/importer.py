"""Writing a validated export into a store: one transaction, logged as an undoable "import" batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from egur_core.memory.curation import TABLES, embedding_text
from egur_core.memory.records import ImportResult, dumps

if TYPE_CHECKING:
    from egur_core.memory.store import MemoryStore
    from egur_core.memory.transfer import MemoryExport


def apply_import(
    store: MemoryStore, data: MemoryExport, mode: Literal["replace", "merge"], batch_id: str, source: str
) -> ImportResult:
    with store._tx():
        for row in data.strategies:
            store._db.execute("INSERT INTO strategies VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                              [row.hash, row.name, row.paradigm, row.summary, dumps(row.strategy_json), row.parent_hash,
                               row.created_by, row.created_at])
        history = _import_history(store, data) if mode == "replace" else 0
        op_ids: list[int] = []
        if mode == "replace":
            for kind in ("entry", "note"):
                t = TABLES[kind]
                for (item_id,) in store._db.execute(f"SELECT {t.key} FROM {t.table} ORDER BY {t.key}").fetchall():
                    op_ids.append(_log_change(store, kind, item_id, "delete", source, batch_id))
        entries = _insert_rows(store, "entry", [r.model_dump() for r in data.library], mode, source, batch_id, op_ids)
        notes = _insert_rows(store, "note", [r.model_dump() for r in data.notes], mode, source, batch_id, op_ids)
        _bump_item_counters(store, data)
    return ImportResult(batch_id=batch_id, mode=mode, entries=entries, notes=notes,
                        strategies=len(data.strategies), history_ops=history, op_ids=op_ids)


def _log_change(store: MemoryStore, kind: str, item_id: int, verb: str, source: str, batch_id: str,
                row: dict[str, Any] | None = None) -> int:
    """Delete an existing row or insert ``row``, logged with before/after like any op."""
    t = TABLES[kind]
    before = store._snapshot([(kind, item_id)])
    if verb == "delete":
        store._db.execute(f"DELETE FROM {t.table} WHERE {t.key} = ?", [item_id])
    else:
        cols = [*t.columns, "embedding"]
        values = [row[c] for c in t.columns] + [store.embed(embedding_text(kind, row))]
        store._db.execute(f"INSERT INTO {t.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
    kind_name = f"{verb}_{kind}"
    payload = {"op": kind_name, t.key: item_id, "reason": f"import of {source}"}
    return store._log(kind_name, "import", None, None, payload, before, store._snapshot([(kind, item_id)]), batch_id)


def _insert_rows(store: MemoryStore, kind: str, rows: list[dict], mode: str, source: str, batch_id: str,
                 op_ids: list[int]) -> int:
    t = TABLES[kind]
    existing: set[tuple] = set()
    if mode == "merge":
        dedupe = ("signature", "strategy_hash") if kind == "entry" else ("text",)
        existing = set(store._db.execute(f"SELECT {', '.join(dedupe)} FROM {t.table}").fetchall())
    count = 0
    for row in rows:
        if mode == "merge":
            key = tuple(row[c] for c in dedupe)
            if key in existing:
                continue
            existing.add(key)
            row = {**row, t.key: store._next_id(t.table, t.table, t.key)}
        op_ids.append(_log_change(store, kind, row[t.key], "add", source, batch_id, row))
        count += 1
    return count


def _import_history(store: MemoryStore, data: MemoryExport) -> int:
    """Keep the file's op log: same op ids into an empty log, else renumbered after the store's."""
    if not data.memory_ops:
        return 0
    has_log = store._scalar("SELECT count(*) FROM memory_ops") > 0
    offset = 0
    if has_log:
        first_free = store._next_id("memory_ops", "memory_ops", "op_id")
        offset = first_free - min(op.op_id for op in data.memory_ops)
    ids = {op.op_id for op in data.memory_ops}

    def remap(op_id: int | None) -> int | None:
        return op_id + offset if op_id in ids else (None if has_log else op_id)

    for op in data.memory_ops:
        store._db.execute(
            "INSERT INTO memory_ops (op_id, ts, actor, run_id, idx, kind, payload, \"before\", \"after\", undo_of, "
            "undone_by, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [op.op_id + offset, op.ts, op.actor, op.run_id, op.idx, op.kind,
             dumps(op.payload) if op.payload is not None else None, dumps(op.before), dumps(op.after),
             remap(op.undo_of), remap(op.undone_by), op.batch_id])
    store._bump_counter("memory_ops", max(ids) + offset + 1)
    return len(data.memory_ops)


def _bump_item_counters(store: MemoryStore, data: MemoryExport) -> None:
    """New ids must clear every id the file knows, including deleted rows its history may restore."""
    for kind, rows, key in (("entry", data.library, "entry_id"), ("note", data.notes, "note_id")):
        known = [getattr(r, key) for r in rows]
        for op in data.memory_ops:
            for snap in (op.before, op.after):
                known += [int(i) for i in snap.get(kind, {})]
        live = store._scalar(f"SELECT coalesce(max({key}), 0) FROM {TABLES[kind].table}")
        store._bump_counter(TABLES[kind].table, max([live, *known]) + 1)

