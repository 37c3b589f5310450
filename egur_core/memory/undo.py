"""Undoing memory ops from their before/after snapshots: check the rows still look like ``after``,
then put ``before`` back.

Two kinds of columns behave differently on undo. *Curated* fields (text, strategy, flags) must
be unchanged since the op, else undo is refused: someone else's later edit would be silently lost.
*Counters* (uses, successes, helpful, ...) keep growing while a run goes on, so undo subtracts the
op's own delta (``current - after + before``) instead of refusing or rolling them back.
"""

from __future__ import annotations

import json
from typing import Any

from egur_core.memory.curation import TABLES, CurationMixin, LogEntry, Ref, embedding_text, snapshot_with_defaults
from egur_core.memory.ops import Actor
from egur_core.memory.records import MemoryOpError, utcnow


class UndoMixin(CurationMixin):
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

    def _undo_one(self, op_id: int, actor: str, batch_id: str | None) -> int:
        op = self._row("SELECT * FROM memory_ops WHERE op_id = ?", [op_id])
        if op is None:
            raise MemoryOpError(f"no memory op {op_id}")
        if op["undone_by"] is not None:
            raise MemoryOpError(f"op {op_id} was already undone by op {op['undone_by']}")
        before = snapshot_with_defaults(json.loads(op["before"]))
        after = snapshot_with_defaults(json.loads(op["after"]))
        refs = sorted({(k, int(i)) for snap in (before, after) for k, rows in snap.items() for i in rows})
        for ref in refs:
            self._check_unchanged(op_id, ref, after.get(ref[0], {}).get(str(ref[1])))
        now_before = self._snapshot(refs)
        for kind, item_id in refs:
            self._restore(kind, item_id, before.get(kind, {}).get(str(item_id)),
                          after.get(kind, {}).get(str(item_id)), now_before.get(kind, {}).get(str(item_id)))
        undo_id = self._log(LogEntry("undo", actor, op["run_id"], op["idx"], {"undo_of": op_id, "kind": op["kind"]},
                                     now_before, self._snapshot(refs), batch_id, undo_of=op_id))
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
