"""Export and import as store methods: the memory as a file (``memory/transfer.py``) and back, undoably.

Import validates the whole file first, then writes it in one transaction, logged as ops by actor
``"import"`` in one batch (``undo_batch`` reverts it).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Literal

from egur_core.memory.curation import TABLES, CurationMixin, LogEntry, embedding_text
from egur_core.memory.records import ImportResult, dumps
from egur_core.memory.transfer import FORMAT, VERSION, MemoryExport, read_export, write_export


class ExchangeMixin(CurationMixin):
    def export_memory(self, path: str | Path) -> Path:
        """Write this memory to ``path`` (``.json`` or ``.zip`` of Parquet); return the path."""
        return write_export(self.collect_export(), path)

    def import_memory(self, path: str | Path, mode: Literal["replace", "merge"] = "replace") -> ImportResult:
        """Validate ``path`` completely, then import it in one transaction (see ``memory/transfer.py``)."""
        if mode not in ("replace", "merge"):
            raise ValueError(f"mode must be 'replace' or 'merge', not {mode!r}")
        data = read_export(path)
        return self._apply_import(data, mode, f"import-{uuid.uuid4().hex[:12]}", Path(path).name)

    def collect_export(self) -> MemoryExport:
        """The store's memory as one validated object (what both formats serialise)."""
        library = self._rows(f"SELECT {', '.join(TABLES['entry'].columns)} FROM library ORDER BY entry_id")
        notes = self._rows(f"SELECT {', '.join(TABLES['note'].columns)} FROM notes ORDER BY note_id")
        ops = [{**r, **{k: json.loads(r[k]) if r[k] else None for k in ("payload", "before", "after")}}
               for r in self._rows("SELECT op_id, ts, actor, run_id, idx, kind, payload, \"before\", \"after\", "
                                   "undo_of, undone_by, batch_id FROM memory_ops WHERE actor <> 'import' "
                                   "ORDER BY op_id")]
        wanted = {r["strategy_hash"] for r in library}
        for op in ops:
            for snap in (op["before"], op["after"]):
                wanted |= {row["strategy_hash"] for row in snap.get("entry", {}).values()}
        strategies: dict[str, dict] = {}
        while wanted:
            h = wanted.pop()
            row = self.strategy_row(h)
            strategies[h] = row
            if row["parent_hash"] and row["parent_hash"] not in strategies:
                wanted.add(row["parent_hash"])
        return MemoryExport(format=FORMAT, version=VERSION, library=library, notes=notes, memory_ops=ops,
                            strategies=[strategies[h] for h in sorted(strategies)])

    def _apply_import(
        self, data: MemoryExport, mode: Literal["replace", "merge"], batch_id: str, source: str
    ) -> ImportResult:
        with self._tx():
            for row in data.strategies:
                self._db.execute(
                    "INSERT INTO strategies (hash, name, paradigm, summary, json, parent_hash, created_by, created_at, "
                    "made_by_model, made_simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [row.hash, row.name, row.paradigm, row.summary, dumps(row.strategy_json), row.parent_hash,
                     row.created_by, row.created_at, row.made_by_model, row.made_simulated])
            history = self._import_history(data) if mode == "replace" else 0
            op_ids: list[int] = []
            if mode == "replace":
                for kind in ("entry", "note"):
                    t = TABLES[kind]
                    for (item_id,) in self._db.execute(f"SELECT {t.key} FROM {t.table} ORDER BY {t.key}").fetchall():
                        op_ids.append(self._log_change(kind, item_id, "delete", source, batch_id))
            entries = self._insert_rows("entry", [r.model_dump() for r in data.library], mode, source, batch_id,
                                        op_ids)
            notes = self._insert_rows("note", [r.model_dump() for r in data.notes], mode, source, batch_id, op_ids)
            self._bump_item_counters(data)
        return ImportResult(batch_id=batch_id, mode=mode, entries=entries, notes=notes,
                            strategies=len(data.strategies), history_ops=history, op_ids=op_ids,
                            warnings=self.cap_warnings())

    def cap_warnings(self) -> list[str]:
        """Sizes over the caps, said before the next memory edit evicts anything (never silently)."""
        warnings = []
        for kind, table, cap, option in (("library entries", "library", self.max_entries, "--max-entries"),
                                         ("notes", "notes", self.max_notes, "--max-notes")):
            count = int(self._scalar(f"SELECT count(*) FROM {table}"))
            if count > cap:
                warnings.append(f"the memory holds {count} {kind}, over its cap of {cap}: the next memory edit "
                                f"evicts the {count - cap} least useful unpinned ones (raise {option}, or prune "
                                "what you do not need)")
        return warnings

    def evictions(self, run_id: str) -> dict[str, int]:
        """How many entries and notes a run's memory edits evicted at the size caps (logged, undoable ops)."""
        rows = self._rows("SELECT kind, count(*) AS n FROM memory_ops WHERE run_id = ? AND actor = 'loop' AND "
                          "kind IN ('delete_entry', 'delete_note') AND undo_of IS NULL GROUP BY kind", [run_id])
        found = {r["kind"]: int(r["n"]) for r in rows}
        return {"entries": found.get("delete_entry", 0), "notes": found.get("delete_note", 0)}

    def _log_change(self, kind: str, item_id: int, verb: str, source: str, batch_id: str,
                    row: dict[str, Any] | None = None) -> int:
        """Delete an existing row or insert ``row``, logged with before/after like any op."""
        t = TABLES[kind]
        before = self._snapshot([(kind, item_id)])
        if verb == "delete":
            self._db.execute(f"DELETE FROM {t.table} WHERE {t.key} = ?", [item_id])
        else:
            cols = [*t.columns, "embedding"]
            values = [row[c] for c in t.columns] + [self.embed(embedding_text(kind, row))]
            self._db.execute(f"INSERT INTO {t.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
        kind_name = f"{verb}_{kind}"
        payload = {"op": kind_name, t.key: item_id, "reason": f"import of {source}"}
        after = self._snapshot([(kind, item_id)])
        return self._log(LogEntry(kind_name, "import", None, None, payload, before, after, batch_id))

    def _insert_rows(self, kind: str, rows: list[dict], mode: str, source: str, batch_id: str,
                     op_ids: list[int]) -> int:
        t = TABLES[kind]
        existing: set[tuple] = set()
        if mode == "merge":
            dedupe = ("signature", "strategy_hash") if kind == "entry" else ("text",)
            existing = set(self._db.execute(f"SELECT {', '.join(dedupe)} FROM {t.table}").fetchall())
        count = 0
        for row in rows:
            if mode == "merge":
                key = tuple(row[c] for c in dedupe)
                if key in existing:
                    continue
                existing.add(key)
                row = {**row, t.key: self._next_id(t.table, t.table, t.key)}
            op_ids.append(self._log_change(kind, row[t.key], "add", source, batch_id, row))
            count += 1
        return count

    def _import_history(self, data: MemoryExport) -> int:
        """Keep the file's op log: same op ids into an empty log, else renumbered after the store's."""
        if not data.memory_ops:
            return 0
        has_log = self._scalar("SELECT count(*) FROM memory_ops") > 0
        offset = 0
        if has_log:
            first_free = self._next_id("memory_ops", "memory_ops", "op_id")
            offset = first_free - min(op.op_id for op in data.memory_ops)
        ids = {op.op_id for op in data.memory_ops}

        def remap(op_id: int | None) -> int | None:
            return op_id + offset if op_id in ids else (None if has_log else op_id)

        for op in data.memory_ops:
            self._db.execute(
                "INSERT INTO memory_ops (op_id, ts, actor, run_id, idx, kind, payload, \"before\", \"after\", undo_of, "
                "undone_by, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [op.op_id + offset, op.ts, op.actor, op.run_id, op.idx, op.kind,
                 dumps(op.payload) if op.payload is not None else None, dumps(op.before), dumps(op.after),
                 remap(op.undo_of), remap(op.undone_by), op.batch_id])
        self._bump_counter("memory_ops", max(ids) + offset + 1)
        return len(data.memory_ops)

    def _bump_item_counters(self, data: MemoryExport) -> None:
        """New ids must clear every id the file knows, including deleted rows its history may reself."""
        for kind, rows, key in (("entry", data.library, "entry_id"), ("note", data.notes, "note_id")):
            known = [getattr(r, key) for r in rows]
            for op in data.memory_ops:
                for snap in (op.before, op.after):
                    known += [int(i) for i in snap.get(kind, {})]
            live = self._scalar(f"SELECT coalesce(max({key}), 0) FROM {TABLES[kind].table}")
            self._bump_counter(TABLES[kind].table, max([live, *known]) + 1)

