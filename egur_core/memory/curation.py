"""Applying and undoing memory ops, with before/after row snapshots in ``memory_ops``.

Every change to the library or the notes is an op (see ``ops.py``). An op's log row holds a
snapshot of every row it touched before and after, keyed ``{"entry": {id: row}, "note": {...}}``.
Undo is then generic: check the rows still look like ``after``, then put ``before`` back.

Two kinds of columns behave differently on undo. *Curated* fields (text, strategy, flags) must
be unchanged since the op, else undo is refused: someone else's later edit would be silently lost.
*Counters* (uses, successes, helpful, ...) keep growing while a run goes on, so undo subtracts the
op's own delta (``current - after + before``) instead of refusing or rolling them back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from egur_core.memory.base import StoreBase
from egur_core.memory.migrations import entry_embedding_text
from egur_core.memory.ops import (
    Actor,
    AddEntry,
    AddNote,
    DeleteEntry,
    DeleteNote,
    MemoryOp,
    MergeEntries,
    MergeNotes,
    RateNote,
    UpdateEntry,
    UpdateNote,
)
from egur_core.memory.records import MemoryOpError, dumps, utcnow
from egur_core.strategy.validation import validate_strategy

OP_ADAPTER: TypeAdapter = TypeAdapter(MemoryOp)
Ref = tuple[str, int]


class Table:
    def __init__(self, kind: str, table: str, key: str, text: str, curated: tuple, counters: tuple, rest: tuple):
        self.kind, self.table, self.key, self.text = kind, table, key, text
        self.curated, self.counters = curated, counters
        self.columns = (key, *curated, *counters, *rest)


# Columns added after a snapshot could have been logged, with the value they had before they existed.
SNAPSHOT_DEFAULTS: dict[str, dict[str, Any]] = {"entry": {"example": ""}, "note": {}}

TABLES = {
    "entry": Table("entry", "library", "entry_id", "signature",
                   ("signature", "example", "benchmark", "strategy_hash", "pinned", "banned"),
                   ("uses", "successes", "total_cost", "retrievals"),
                   ("created_at", "updated_at", "last_used_at", "created_run_id", "created_idx")),
    "note": Table("note", "notes", "note_id", "text", ("text", "benchmark", "pinned", "banned"),
                  ("helpful", "harmful", "retrievals"),
                  ("created_at", "updated_at", "created_run_id", "created_idx")),
}


def parse_op(op: MemoryOp | dict[str, Any]) -> MemoryOp:
    """Accept an op model or its JSON dict; a bad dict raises :class:`MemoryOpError`."""
    try:
        return OP_ADAPTER.validate_python(op if isinstance(op, dict) else op.model_dump())
    except ValidationError as exc:
        raise MemoryOpError(f"not a valid memory op: {exc.errors()[0]['msg']} ({exc.error_count()} issues)") from exc


def _touched(op: MemoryOp) -> list[Ref]:
    match op:
        case UpdateEntry() | DeleteEntry():
            return [("entry", op.entry_id)]
        case MergeEntries():
            return [("entry", op.keep_id)] + [("entry", i) for i in op.drop_ids]
        case UpdateNote() | DeleteNote() | RateNote():
            return [("note", op.note_id)]
        case MergeNotes():
            return [("note", op.keep_id)] + [("note", i) for i in op.drop_ids]
    return []


def embedding_text(kind: str, row: dict[str, Any]) -> str:
    """The text an entry or note row is embedded from (the same on insert, update, undo and import)."""
    if kind == "entry":
        return entry_embedding_text(row["signature"], row.get("example"))
    return row["text"]


def _with_defaults(snapshot: dict[str, dict[str, dict]]) -> dict[str, dict[str, dict]]:
    return {kind: {i: {**SNAPSHOT_DEFAULTS[kind], **row} for i, row in rows.items()} for kind, rows in snapshot.items()}


class CurationMixin(StoreBase):
    max_entries: int
    max_notes: int

    # -- public ---------------------------------------------------------------------------------
    def apply(self, op: MemoryOp | dict, actor: Actor, run_id: str | None = None, idx: int | None = None) -> int:
        """Apply one op in a transaction; return its ``op_id`` in the audit log."""
        return self.apply_many([op], actor, run_id, idx)[0]

    def apply_many(
        self, ops: Sequence[MemoryOp | dict], actor: Actor, run_id: str | None = None,
        idx: int | None = None, batch_id: str | None = None,
    ) -> list[int]:
        """Apply all ops in ONE transaction: either every op lands or none does."""
        parsed = [parse_op(op) for op in ops]
        batch_id = batch_id or (f"batch-{uuid.uuid4().hex[:12]}" if len(parsed) > 1 else None)
        with self._tx():
            op_ids = [self._apply_one(op, actor, run_id, idx, batch_id) for op in parsed]
            self._enforce_caps(run_id, idx)
        return op_ids

    def undo(self, op_id: int, actor: Actor = "person") -> int:
        """Restore the state before ``op_id``; the undo is logged as its own op (returned)."""
        with self._tx():
            return self._undo_one(op_id, actor, None)

    def undo_batch(self, batch_id: str, actor: Actor = "person") -> list[int]:
        """Undo every op of a batch (an import, a prune, an ``apply_many``), newest first, atomically."""
        ids = [r["op_id"] for r in self._rows(
            "SELECT op_id FROM memory_ops WHERE batch_id = ? AND undone_by IS NULL AND kind <> 'undo' "
            "ORDER BY op_id DESC", [batch_id])]
        if not ids:
            raise MemoryOpError(f"batch {batch_id!r} has no ops left to undo")
        undo_batch = f"undo-{batch_id}"[:60]
        with self._tx():
            return [self._undo_one(i, actor, undo_batch) for i in ids]

    # -- snapshots --------------------------------------------------------------------------------
    def _snapshot(self, refs: Sequence[Ref]) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for kind, item_id in refs:
            t = TABLES[kind]
            row = self._row(f"SELECT {', '.join(t.columns)} FROM {t.table} WHERE {t.key} = ?", [item_id])
            if row is not None:
                out.setdefault(kind, {})[str(item_id)] = json.loads(dumps(row))
        return out

    def _require(self, refs: Sequence[Ref]) -> None:
        missing = [f"{k} {i}" for k, i in refs if not self._snapshot([(k, i)])]
        if missing:
            raise MemoryOpError(f"no such {', '.join(missing)} (nothing was changed)")
        if len(set(refs)) != len(refs):
            raise MemoryOpError("an op names the same item twice (nothing was changed)")

    def _log(self, kind: str, actor: str, run_id, idx, payload, before, after, batch_id, undo_of=None) -> int:
        op_id = self._next_id("memory_ops", "memory_ops", "op_id")
        self._db.execute(
            "INSERT INTO memory_ops (op_id, ts, actor, run_id, idx, kind, payload, \"before\", \"after\", "
            "undo_of, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [op_id, utcnow(), actor, run_id, idx, kind, dumps(payload), dumps(before), dumps(after),
             undo_of, batch_id])
        return op_id

    # -- apply ----------------------------------------------------------------------------------
    def _apply_one(self, op: MemoryOp, actor: str, run_id, idx, batch_id) -> int:
        refs = _touched(op)
        self._require(refs)
        if actor != "person":
            self._refuse_pinned_loss(op)
        before = self._snapshot(refs)
        created = getattr(self, f"_do_{op.op}")(op, actor, run_id, idx)
        after = self._snapshot(refs + ([created] if created else []))
        return self._log(op.op, actor, run_id, idx, op.model_dump(mode="json"), before, after, batch_id)

    def _refuse_pinned_loss(self, op: MemoryOp) -> None:
        """Pinned means "a person wants this kept": only a person may delete or merge it away."""
        doomed: list[Ref] = []
        if isinstance(op, (DeleteEntry, DeleteNote)):
            doomed = _touched(op)
        elif isinstance(op, (MergeEntries, MergeNotes)):
            doomed = _touched(op)[1:]
        for kind, item_id in doomed:
            if self._snapshot([(kind, item_id)])[kind][str(item_id)]["pinned"]:
                raise MemoryOpError(f"{kind} {item_id} is pinned; only a person can delete or merge it")

    def _checked_strategy(self, data: dict, parent_hash: str | None, actor: str) -> str:
        strategy, issues = validate_strategy(data)
        if issues or strategy is None:
            listed = "; ".join(str(i) for i in issues[:3])
            raise MemoryOpError(f"invalid strategy ({len(issues)} issues): {listed}")
        return self.save_strategy(strategy, parent_hash=parent_hash, created_by=actor)  # type: ignore[attr-defined]

    def _do_add_entry(self, op: AddEntry, actor: str, run_id, idx) -> Ref:
        strategy_hash = self._checked_strategy(op.strategy, None, actor)
        entry_id, now = self._next_id("library", "library", "entry_id"), utcnow()
        self._db.execute(
            "INSERT INTO library (entry_id, signature, example, benchmark, strategy_hash, embedding, created_at, "
            "updated_at, created_run_id, created_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [entry_id, op.signature, op.example, op.benchmark, strategy_hash,
             self.embed(entry_embedding_text(op.signature, op.example)), now, now, run_id, idx])
        return ("entry", entry_id)

    def _do_update_entry(self, op: UpdateEntry, actor: str, run_id, idx) -> None:
        sets: dict[str, Any] = {k: v for k, v in (("pinned", op.pinned), ("banned", op.banned)) if v is not None}
        if op.signature is not None:
            example = self._scalar("SELECT example FROM library WHERE entry_id = ?", [op.entry_id])
            sets.update(signature=op.signature, embedding=self.embed(entry_embedding_text(op.signature, example)))
        if op.strategy is not None:
            parent = self._scalar("SELECT strategy_hash FROM library WHERE entry_id = ?", [op.entry_id])
            sets["strategy_hash"] = self._checked_strategy(op.strategy, parent, actor)
        self._update("library", "entry_id", op.entry_id, sets)

    def _do_merge_entries(self, op: MergeEntries, actor: str, run_id, idx) -> None:
        self._merge("entry", op.keep_id, op.drop_ids, op.signature)

    def _do_delete_entry(self, op: DeleteEntry, actor: str, run_id, idx) -> None:
        self._db.execute("DELETE FROM library WHERE entry_id = ?", [op.entry_id])

    def _do_add_note(self, op: AddNote, actor: str, run_id, idx) -> Ref:
        note_id, now = self._next_id("notes", "notes", "note_id"), utcnow()
        self._db.execute(
            "INSERT INTO notes (note_id, text, benchmark, embedding, created_at, updated_at, created_run_id, "
            "created_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [note_id, op.text, op.benchmark, self.embed(op.text), now, now, run_id, idx])
        return ("note", note_id)

    def _do_update_note(self, op: UpdateNote, actor: str, run_id, idx) -> None:
        sets: dict[str, Any] = {k: v for k, v in (("pinned", op.pinned), ("banned", op.banned)) if v is not None}
        if op.text is not None:
            sets.update(text=op.text, embedding=self.embed(op.text))
        self._update("notes", "note_id", op.note_id, sets)

    def _do_merge_notes(self, op: MergeNotes, actor: str, run_id, idx) -> None:
        self._merge("note", op.keep_id, op.drop_ids, op.text)

    def _do_delete_note(self, op: DeleteNote, actor: str, run_id, idx) -> None:
        self._db.execute("DELETE FROM notes WHERE note_id = ?", [op.note_id])

    def _do_rate_note(self, op: RateNote, actor: str, run_id, idx) -> None:
        self._db.execute("UPDATE notes SET helpful = helpful + ?, harmful = harmful + ? WHERE note_id = ?",
                         [op.helpful, op.harmful, op.note_id])

    def _update(self, table: str, key: str, item_id: int, sets: dict[str, Any]) -> None:
        sets = {**sets, "updated_at": utcnow()}
        assignments = ", ".join(f"{col} = ?" for col in sets)
        self._db.execute(f"UPDATE {table} SET {assignments} WHERE {key} = ?", [*sets.values(), item_id])

    def _merge(self, kind: str, keep_id: int, drop_ids: list[int], text: str | None) -> None:
        """Fold the drops' counters into ``keep_id`` and delete the drops."""
        if keep_id in drop_ids:
            raise MemoryOpError(f"cannot merge {kind} {keep_id} into itself")
        t = TABLES[kind]
        marks = ", ".join("?" * len(drop_ids))
        sums = self._row(f"SELECT {', '.join(f'sum({c}) AS {c}' for c in t.counters)} FROM {t.table} "
                         f"WHERE {t.key} IN ({marks})", drop_ids)
        keep = self._snapshot([(kind, keep_id)])[kind][str(keep_id)]
        sets: dict[str, Any] = {c: keep[c] + (sums[c] or 0) for c in t.counters}
        if text is not None:
            sets.update({t.text: text, "embedding": self.embed(embedding_text(kind, {**keep, t.text: text}))})
        self._update(t.table, t.key, keep_id, sets)
        self._db.execute(f"DELETE FROM {t.table} WHERE {t.key} IN ({marks})", drop_ids)

    # -- undo -------------------------------------------------------------------------------------
    def _undo_one(self, op_id: int, actor: str, batch_id: str | None) -> int:
        op = self._row("SELECT * FROM memory_ops WHERE op_id = ?", [op_id])
        if op is None:
            raise MemoryOpError(f"no memory op {op_id}")
        if op["undone_by"] is not None:
            raise MemoryOpError(f"op {op_id} was already undone by op {op['undone_by']}")
        before, after = _with_defaults(json.loads(op["before"])), _with_defaults(json.loads(op["after"]))
        refs = sorted({(k, int(i)) for snap in (before, after) for k, rows in snap.items() for i in rows})
        for ref in refs:
            self._check_unchanged(op_id, ref, after.get(ref[0], {}).get(str(ref[1])))
        now_before = self._snapshot(refs)
        for kind, item_id in refs:
            self._restore(kind, item_id, before.get(kind, {}).get(str(item_id)),
                          after.get(kind, {}).get(str(item_id)), now_before.get(kind, {}).get(str(item_id)))
        undo_id = self._log("undo", actor, op["run_id"], op["idx"], {"undo_of": op_id, "kind": op["kind"]},
                            now_before, self._snapshot(refs), batch_id, undo_of=op_id)
        self._db.execute("UPDATE memory_ops SET undone_by = ? WHERE op_id = ?", [undo_id, op_id])
        return undo_id

    def _check_unchanged(self, op_id: int, ref: Ref, expected: dict | None) -> None:
        kind, item_id = ref
        current = self._snapshot([ref]).get(kind, {}).get(str(item_id))
        curated = TABLES[kind].curated
        if expected is None and current is None:
            return
        if expected is not None and current is not None and all(current[c] == expected[c] for c in curated):
            return
        what = "was deleted" if current is None else "exists again" if expected is None else "changed"
        later = self._later_op(op_id, ref)
        hint = f" by op {later}; undo that first" if later else ""
        raise MemoryOpError(f"cannot undo op {op_id}: {kind} {item_id} {what} since{hint}")

    def _later_op(self, op_id: int, ref: Ref) -> int | None:
        kind, key = ref[0], str(ref[1])
        for row in self._rows("SELECT op_id, \"before\", \"after\" FROM memory_ops WHERE op_id > ? AND "
                              "undone_by IS NULL ORDER BY op_id", [op_id]):
            if any(key in json.loads(row[s]).get(kind, {}) for s in ("before", "after")):
                return int(row["op_id"])
        return None

    def _restore(self, kind: str, item_id: int, before: dict | None, after: dict | None, now: dict | None) -> None:
        t = TABLES[kind]
        if before is None:
            self._db.execute(f"DELETE FROM {t.table} WHERE {t.key} = ?", [item_id])
        elif after is None or now is None:
            cols = [*t.columns, "embedding"]
            values = [before[c] for c in t.columns] + [self.embed(embedding_text(kind, before))]
            self._db.execute(f"INSERT INTO {t.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             values)
        else:
            sets: dict[str, Any] = {c: before[c] for c in t.curated}
            sets.update({c: now[c] - after[c] + before[c] for c in t.counters})
            if embedding_text(kind, before) != embedding_text(kind, now):
                sets["embedding"] = self.embed(embedding_text(kind, before))
            assignments = ", ".join(f"{c} = ?" for c in sets)
            self._db.execute(f"UPDATE {t.table} SET {assignments}, updated_at = ? WHERE {t.key} = ?",
                             [*sets.values(), utcnow(), item_id])

    # -- size caps --------------------------------------------------------------------------------
    def _enforce_caps(self, run_id, idx) -> None:
        """Evict the least useful unpinned items over the cap, as logged (undoable) deletes by "loop"."""
        for kind, cap, score in (("entry", self.max_entries, "successes"), ("note", self.max_notes,
                                                                            "helpful - harmful")):
            t = TABLES[kind]
            excess = int(self._scalar(f"SELECT count(*) FROM {t.table}")) - cap
            if excess <= 0:
                continue
            victims = [r[t.key] for r in self._rows(
                f"SELECT {t.key} FROM {t.table} WHERE NOT pinned ORDER BY {score}, created_at, {t.key} LIMIT ?",
                [excess])]
            for victim in victims:
                op = DeleteEntry(entry_id=victim, reason="size cap") if kind == "entry" else \
                    DeleteNote(note_id=victim, reason="size cap")
                self._apply_one(op, "loop", run_id, idx, None)
