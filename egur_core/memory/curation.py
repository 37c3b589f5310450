"""Applying memory ops, with before/after row snapshots in ``memory_ops`` (undo: ``undo.py``).

Every change to the library or the notes is an op (see ``ops.py``). An op's log row holds a
snapshot of every row it touched before and after, keyed ``{"entry": {id: row}, "note": {...}}``,
which is what makes undo generic.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
SNAPSHOT_DEFAULTS: dict[str, dict[str, Any]] = {
    "entry": {"example": "", "origin": "learned", "made_by_model": None, "made_simulated": False, "sim_uses": 0,
              "sim_successes": 0, "sim_total_cost": 0.0},
    "note": {"made_by_model": None, "made_simulated": False},
}

TABLES = {
    "entry": Table("entry", "library", "entry_id", "signature",
                   ("signature", "example", "benchmark", "strategy_hash", "pinned", "banned"),
                   ("uses", "successes", "total_cost", "retrievals", "sim_uses", "sim_successes", "sim_total_cost"),
                   ("created_at", "updated_at", "last_used_at", "created_run_id", "created_idx", "origin",
                    "made_by_model", "made_simulated")),
    "note": Table("note", "notes", "note_id", "text", ("text", "benchmark", "pinned", "banned"),
                  ("helpful", "harmful", "retrievals"),
                  ("created_at", "updated_at", "created_run_id", "created_idx", "made_by_model", "made_simulated")),
}

ORIGIN_OF_ACTOR = {"consolidator": "learned", "person": "person", "seed": "seed", "loop": "learned",
                   "import": "import"}
"""What an entry is marked as, by who added it (an import keeps the file's marks)."""


def parse_op(op: MemoryOp | dict[str, Any]) -> MemoryOp:
    """Accept an op model or its JSON dict; a bad dict raises :class:`MemoryOpError`."""
    try:
        return OP_ADAPTER.validate_python(op if isinstance(op, dict) else op.model_dump())
    except ValidationError as exc:
        raise MemoryOpError(f"not a valid memory op: {exc.errors()[0]['msg']} ({exc.error_count()} issues)") from exc


def touched(op: MemoryOp) -> list[Ref]:
    """The library entries and notes an op reads or changes."""
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


def snapshot_with_defaults(snapshot: dict[str, dict[str, dict]]) -> dict[str, dict[str, dict]]:
    return {kind: {i: {**SNAPSHOT_DEFAULTS[kind], **row} for i, row in rows.items()} for kind, rows in snapshot.items()}


@dataclass(frozen=True)
class LogEntry:
    """One row of the audit log, as an op leaves it."""

    kind: str
    actor: str
    run_id: str | None
    idx: int | None
    payload: dict[str, Any] | None
    before: dict[str, Any]
    after: dict[str, Any]
    batch_id: str | None
    undo_of: int | None = None


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

    # -- snapshots --------------------------------------------------------------------------------
    def _snapshot(self, refs: Sequence[Ref]) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for kind, item_id in refs:
            t = TABLES[kind]
            row = self._row(f"SELECT {', '.join(t.columns)} FROM {t.table} WHERE {t.key} = ?", [item_id])
            if row is not None:
                out.setdefault(kind, {})[str(item_id)] = json.loads(dumps(row))
        return out

    @staticmethod
    def _require(refs: Sequence[Ref], snapshot: dict[str, dict[str, dict]]) -> None:
        missing = [f"{k} {i}" for k, i in refs if str(i) not in snapshot.get(k, {})]
        if missing:
            raise MemoryOpError(f"no such {', '.join(missing)} (nothing was changed)")
        if len(set(refs)) != len(refs):
            raise MemoryOpError("an op names the same item twice (nothing was changed)")

    def _log(self, entry: LogEntry) -> int:
        op_id = self._next_id("memory_ops", "memory_ops", "op_id")
        self._db.execute(
            "INSERT INTO memory_ops (op_id, ts, actor, run_id, idx, kind, payload, \"before\", \"after\", "
            "undo_of, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [op_id, utcnow(), entry.actor, entry.run_id, entry.idx, entry.kind, dumps(entry.payload),
             dumps(entry.before), dumps(entry.after), entry.undo_of, entry.batch_id])
        return op_id

    # -- apply ----------------------------------------------------------------------------------
    def _apply_one(self, op: MemoryOp, actor: str, run_id, idx, batch_id) -> int:
        refs = touched(op)
        before = self._snapshot(refs)  # read once: it says what exists, what is pinned and what the op changes
        self._require(refs, before)
        if actor != "person":
            self._refuse_pinned_change(op, before)
        created = getattr(self, f"_do_{op.op}")(op, actor, run_id, idx)
        after = self._snapshot(refs + ([created] if created else []))
        return self._log(LogEntry(op.op, actor, run_id, idx, op.model_dump(mode="json"), before, after, batch_id))

    @staticmethod
    def _refuse_pinned_change(op: MemoryOp, snapshot: dict[str, dict[str, dict]]) -> None:
        """Pinned means "a person owns this": only a person may pin, unpin, edit, merge or delete it.

        Ratings (``rate_note``) still count: they measure a note, they do not change it."""
        if isinstance(op, (UpdateEntry, UpdateNote)) and op.pinned is not None:
            raise MemoryOpError("only a person can pin or unpin")
        if isinstance(op, RateNote):
            return
        for kind, item_id in touched(op):
            if snapshot[kind][str(item_id)]["pinned"]:
                raise MemoryOpError(f"{kind} {item_id} is pinned; only a person can change it")

    def _checked_strategy(self, data: dict, parent_hash: str | None, actor: str) -> str:
        strategy, issues = validate_strategy(data)
        if issues or strategy is None:
            listed = "; ".join(str(i) for i in issues[:3])
            raise MemoryOpError(f"invalid strategy ({len(issues)} issues): {listed}")
        return self.save_strategy(strategy, parent_hash=parent_hash, created_by=actor)  # type: ignore[attr-defined]

    def _do_add_entry(self, op: AddEntry, actor: str, run_id, idx) -> Ref:
        strategy_hash = self._checked_strategy(op.strategy, None, actor)
        entry_id, now = self._next_id("library", "library", "entry_id"), utcnow()
        model, simulated = self._made_by(run_id)
        self._db.execute(
            "INSERT INTO library (entry_id, signature, example, benchmark, strategy_hash, embedding, created_at, "
            "updated_at, created_run_id, created_idx, origin, made_by_model, made_simulated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [entry_id, op.signature, op.example, op.benchmark, strategy_hash,
             self.embed(entry_embedding_text(op.signature, op.example)), now, now, run_id, idx,
             ORIGIN_OF_ACTOR.get(actor, "learned"), model, simulated])
        return ("entry", entry_id)

    def _made_by(self, run_id: str | None) -> tuple[str | None, bool]:
        """(model, simulated) of the run an op came from; a person's or a seed's op has neither."""
        if run_id is None:
            return None, False
        try:
            run = self._run_facts(run_id)  # type: ignore[attr-defined]
        except KeyError:
            return None, False
        return run["model"], bool(run["simulated"])

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
        model, simulated = self._made_by(run_id)
        self._db.execute(
            "INSERT INTO notes (note_id, text, benchmark, embedding, created_at, updated_at, created_run_id, "
            "created_idx, made_by_model, made_simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [note_id, op.text, op.benchmark, self.embed(op.text), now, now, run_id, idx, model, simulated])
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
