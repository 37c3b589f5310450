"""``MemoryStore``: the one object the loop, the dashboard and the CLI use to read and write memory.

The store is assembled from parts by concern (runs, curation, review and prune, retrieval); this
module adds strategies, measured statistics and browsing. It never calls an LLM: embeddings come
from the injected ``embed`` callable.

>>> import duckdb
>>> store = MemoryStore(duckdb.connect(":memory:"))
>>> op_id = store.apply(AddNote(text="Check parity first."), actor="person")
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd

from egur_core.memory.base import Embed
from egur_core.memory.embedding import local_embedding
from egur_core.memory.exchange import ExchangeMixin
from egur_core.memory.ops import AddEntry, AddNote  # noqa: F401  (AddNote: doctest convenience)
from egur_core.memory.records import EGUR_METHODS, RetrievedEntry, RetrievedNote, utcnow
from egur_core.memory.retrieval import RetrievalMixin
from egur_core.memory.review import ReviewMixin
from egur_core.memory.runs_repo import RunsMixin
from egur_core.memory.undo import UndoMixin
from egur_core.strategy.model import Strategy

_EGUR = f"list_contains({list(EGUR_METHODS)!r}, r.method)"
"""Executions in EGuR's runs (the Guide's candidates, exploits, fallbacks, Ask), not in a baseline's."""

_ENTRY_VIEW = """
    SELECT l.entry_id, l.signature, l.benchmark, l.strategy_hash, s.name AS strategy_name, l.uses, l.successes,
           CASE WHEN l.uses > 0 THEN l.successes / l.uses END AS success_rate,
           CASE WHEN l.uses > 0 THEN l.total_cost / l.uses END AS mean_cost, l.total_cost, l.retrievals,
           l.pinned, l.banned, l.created_at, l.updated_at, l.last_used_at, l.created_run_id, l.created_idx,
           l.origin, l.made_by_model, l.made_simulated, l.sim_uses, l.sim_successes
    FROM library l LEFT JOIN strategies s ON s.hash = l.strategy_hash"""


class MemoryStore(ExchangeMixin, UndoMixin, ReviewMixin, RunsMixin, RetrievalMixin):
    """Runs, strategies, the strategy library, notes and their audit log in one DuckDB database.

    Args:
        con: a DuckDB connection (``":memory:"`` in tests); the store migrates it on construction
            and uses one cursor per thread, so one store may be shared by threads.
        embed: text -> vector; its output size fixes the ``FLOAT[dim]`` embedding columns.
        max_entries / max_notes: size caps, enforced after each ``apply`` by evicting the least
            useful unpinned items through logged delete ops (actor ``"loop"``).
        write_lock: shared by stores on the same database so their writes never conflict.
        root_lock: shared by stores on the same connection, which refuses two calls at once.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        embed: Embed = local_embedding,
        *,
        max_entries: int = 500,
        max_notes: int = 200,
        write_lock: threading.RLock | None = None,
        root_lock: threading.Lock | None = None,
    ) -> None:
        self.max_entries, self.max_notes = max_entries, max_notes
        self._saved_hashes: set[str] = set()
        self._strategy_json: dict[str, str] = {}
        self._vectors: dict = {}
        self._runs_seen: dict[str, dict[str, Any]] = {}
        super().__init__(con, embed, write_lock=write_lock, root_lock=root_lock)

    def _after_rollback(self) -> None:
        self._saved_hashes.clear()
        self._strategy_json.clear()
        self._runs_seen.clear()

    # -- strategies -----------------------------------------------------------------------------
    def save_strategy(
        self, strategy: Strategy | dict, parent_hash: str | None = None, created_by: str = "guide",
        made_by_model: str | None = None, made_simulated: bool = False,
    ) -> str:
        """Store a strategy version once (idempotent by content hash); return the hash. The first save
        records where the version came from: its parent, who made it (``created_by``: guide, guide-compact,
        fallback, person, seed, baseline, ...), with which model and whether that model was simulated."""
        if isinstance(strategy, dict):
            strategy = Strategy.model_validate(strategy)
        digest = strategy.hash
        if digest in self._saved_hashes:
            return digest  # versions are immutable and never deleted: no need to ask DuckDB again
        with self._tx():  # a look, then an insert: DuckDB's ON CONFLICT costs more than both
            if not self._scalar("SELECT count(*) FROM strategies WHERE hash = ?", [digest]):
                self._db.execute(
                    "INSERT INTO strategies (hash, name, paradigm, summary, json, parent_hash, created_by, created_at, "
                    "made_by_model, made_simulated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [digest, strategy.name, strategy.paradigm, strategy.summary, strategy.canonical_json(),
                     parent_hash if parent_hash != digest else None, created_by, utcnow(), made_by_model,
                     made_simulated])
        self._saved_hashes.add(digest)
        return digest

    def get_strategy(self, strategy_hash: str) -> Strategy:
        return Strategy.model_validate(self.strategy_row(strategy_hash)["json"])

    def strategy_row(self, strategy_hash: str) -> dict[str, Any]:
        """The stored row with ``json`` parsed; ``KeyError`` if unknown."""
        row = self._row("SELECT * FROM strategies WHERE hash = ?", [strategy_hash])
        if row is None:
            raise KeyError(f"no strategy {strategy_hash}")
        return {**row, "json": json.loads(row["json"])}

    def lineage(self, strategy_hash: str) -> list[dict[str, Any]]:
        """Ancestors (oldest first), the strategy itself, then descendants, each with ``relation`` and
        ``depth`` (negative for ancestors), for drawing a version tree."""
        self.strategy_row(strategy_hash)
        up, seen, current = [], {strategy_hash}, strategy_hash
        while True:
            parent = self._scalar("SELECT parent_hash FROM strategies WHERE hash = ?", [current])
            if parent is None or parent in seen:
                break
            seen.add(parent)
            up.append(parent)
            current = parent
        down = self._rows("""
            WITH RECURSIVE d(hash, depth) AS (
                SELECT hash, 1 FROM strategies WHERE parent_hash = ?
                UNION SELECT s.hash, d.depth + 1 FROM strategies s JOIN d ON s.parent_hash = d.hash
                WHERE d.depth < 100)
            SELECT hash, min(depth) AS depth FROM d GROUP BY hash ORDER BY depth, hash""", [strategy_hash])
        cols = "hash, name, paradigm, summary, parent_hash, created_by, created_at"
        out = []
        for depth, h in enumerate(reversed(up)):
            out.append({**self._row(f"SELECT {cols} FROM strategies WHERE hash = ?", [h]),
                        "relation": "ancestor", "depth": depth - len(up)})
        out.append({**self._row(f"SELECT {cols} FROM strategies WHERE hash = ?", [strategy_hash]),
                    "relation": "self", "depth": 0})
        for r in down:
            if r["hash"] not in seen:
                out.append({**self._row(f"SELECT {cols} FROM strategies WHERE hash = ?", [r["hash"]]),
                            "relation": "descendant", "depth": int(r["depth"])})
        return out

    def list_strategies(self, search: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Every stored version with how often EGuR ran it and how well (``executions``, ``accuracy``,
        ``mean_cost``), how often baselines ran it (``baseline_runs``, kept apart), and library use."""
        return self._df(f"""
            SELECT s.hash, s.name, s.paradigm, s.summary, s.parent_hash, s.created_by, s.created_at,
                   count(e.execution_id) FILTER (WHERE {_EGUR}) AS executions,
                   avg(e.correct::INT) FILTER (WHERE {_EGUR}) AS accuracy,
                   avg(e.cost_usd) FILTER (WHERE {_EGUR}) AS mean_cost,
                   count(e.execution_id) FILTER (WHERE NOT {_EGUR}) AS baseline_runs,
                   (SELECT count(*) FROM library l WHERE l.strategy_hash = s.hash) AS library_entries
            FROM strategies s LEFT JOIN executions e ON e.strategy_hash = s.hash AND NOT coalesce(e.stale, false)
                 LEFT JOIN runs r ON r.run_id = e.run_id
            WHERE ? IS NULL OR s.name ILIKE ? OR s.summary ILIKE ?
            GROUP BY ALL ORDER BY s.created_at DESC, s.hash {'LIMIT ' + str(int(limit)) if limit else ''}""",
            [search, f"%{search}%", f"%{search}%"])

    def seed_library(self, strategies: Mapping[str, Strategy]) -> list[int]:
        """Add ``strategies`` as library entries marked ``seed`` (no statistics yet), once per memory file, so the
        Guide has something to reuse from the first problem. One undoable batch by actor ``seed``; a file that
        was seeded before (even if a person deleted the seeds since) is left alone. Returns the op ids."""
        with self._tx():
            if self._scalar("SELECT value FROM meta WHERE key = 'seeded'") is not None:
                return []
            ops = [AddEntry(signature=f"{s.name}: {s.summary}"[:300], strategy=s.to_json_dict(),
                            reason=f"shipped strategy {key}") for key, s in sorted(strategies.items())]
            op_ids = self.apply_many(ops, "seed", batch_id=f"seed-{uuid.uuid4().hex[:8]}") if ops else []
            self._db.execute("INSERT INTO meta VALUES ('seeded', ?)", [utcnow().isoformat()])
        return op_ids

    # -- measured statistics (not curated, not ops) ---------------------------------------------
    def entry_holding(self, strategy_hash: str, benchmark: str) -> int | None:
        """The oldest live entry caching exactly this strategy for this benchmark: where a run of that strategy
        counts, whether the Guide named the entry or wrote the same strategy afresh."""
        return self._scalar("SELECT min(entry_id) FROM library WHERE strategy_hash = ? AND benchmark = ? "
                            "AND NOT banned", [strategy_hash, benchmark])

    def record_entry_outcome(self, entry_id: int, correct: bool, cost: float, simulated: bool = False) -> bool:
        """Count one use of a library entry (apart as well when measured on the simulated model); False if it
        was deleted meanwhile (not an error)."""
        sim = int(bool(simulated))
        with self._tx():
            changed = self._changed(
                "UPDATE library SET uses = uses + 1, successes = successes + ?, total_cost = total_cost + ?, "
                "sim_uses = sim_uses + ?, sim_successes = sim_successes + ?, sim_total_cost = sim_total_cost + ?, "
                "last_used_at = ? WHERE entry_id = ?",
                [int(bool(correct)), float(cost), sim, sim * int(bool(correct)), sim * float(cost), utcnow(),
                 entry_id])
        return bool(changed)

    def record_retrievals(
        self, run_id: str, idx: int, entries: Sequence[RetrievedEntry], notes: Sequence[RetrievedNote]
    ) -> None:
        """Provenance of what conditioned a problem, and the ``retrievals`` counters."""
        now = utcnow()
        rows = [[run_id, idx, "entry", e.entry_id, e.rank, e.similarity, now] for e in entries]
        rows += [[run_id, idx, "note", n.note_id, n.rank, n.similarity, now] for n in notes]
        if not rows:
            return
        with self._tx():  # one statement per table, not one per item: this runs for every problem
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows))
            self._db.execute(f"INSERT INTO retrievals VALUES {values}", [v for row in rows for v in row])
            for table, key, ids in (("library", "entry_id", [e.entry_id for e in entries]),
                                    ("notes", "note_id", [n.note_id for n in notes])):
                if ids:
                    self._db.execute(f"UPDATE {table} SET retrievals = retrievals + 1 WHERE {key} IN "
                                     f"({', '.join('?' * len(ids))})", ids)

    # -- browsing -------------------------------------------------------------------------------
    def list_entries(
        self, search: str | None = None, benchmark: str | None = None, include_banned: bool = True,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Library entries with their stats, newest first; ``search`` matches signature or strategy name."""
        sql = f"""SELECT * FROM ({_ENTRY_VIEW}) WHERE (? IS NULL OR signature ILIKE ? OR strategy_name ILIKE ?)
                  AND (? IS NULL OR benchmark = ?) AND (? OR NOT banned)
                  ORDER BY created_at DESC, entry_id DESC {'LIMIT ' + str(int(limit)) if limit else ''}"""
        return self._df(sql, [search, f"%{search}%", f"%{search}%", benchmark, benchmark, include_banned])

    def list_notes(
        self, search: str | None = None, benchmark: str | None = None, include_banned: bool = True,
        limit: int | None = None,
    ) -> pd.DataFrame:
        sql = f"""SELECT note_id, text, benchmark, helpful, harmful, retrievals, pinned, banned, created_at,
                         updated_at, created_run_id, created_idx, made_by_model, made_simulated FROM notes
                  WHERE (? IS NULL OR text ILIKE ?) AND (? IS NULL OR benchmark = ?) AND (? OR NOT banned)
                  ORDER BY created_at DESC, note_id DESC {'LIMIT ' + str(int(limit)) if limit else ''}"""
        return self._df(sql, [search, f"%{search}%", benchmark, benchmark, include_banned])

    def get_entry(self, entry_id: int) -> dict[str, Any] | None:
        return self._row(f"SELECT * FROM ({_ENTRY_VIEW}) WHERE entry_id = ?", [entry_id])

    def get_note(self, note_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * EXCLUDE (embedding) FROM notes WHERE note_id = ?", [note_id])

    def entry_provenance(self, entry_id: int) -> dict[str, Any]:
        """Where an entry came from and what it influenced: its creating run/problem, every
        retrieval of it, and every op that touched it (also works after it was deleted)."""
        ops = [r for r in self._rows(
            "SELECT op_id, ts, actor, run_id, idx, kind, undone_by, \"before\", \"after\" FROM memory_ops "
            "ORDER BY op_id") if any(str(entry_id) in json.loads(r[s]).get("entry", {}) for s in ("before", "after"))]
        if not ops and self.get_entry(entry_id) is None:
            raise KeyError(f"no entry {entry_id}")
        created = next((o for o in ops if o["kind"] == "add_entry"), None)
        problem = None
        if created and created["run_id"] is not None:
            problem = self._row("SELECT run_id, idx, problem_id, benchmark, text, correct FROM problems "
                                "WHERE run_id = ? AND idx = ?", [created["run_id"], created["idx"]])
        retrieved = self._rows("SELECT run_id, idx, rank, similarity, ts FROM retrievals WHERE kind = 'entry' "
                               "AND item_id = ? ORDER BY ts, run_id, idx", [entry_id])
        return {
            "entry": self.get_entry(entry_id),
            "created_by": {k: created[k] for k in ("op_id", "ts", "actor", "run_id", "idx")} if created else None,
            "created_problem": problem,
            "retrieved_by": retrieved,
            "ops": [{k: o[k] for k in ("op_id", "ts", "actor", "kind", "run_id", "idx", "undone_by")} for o in ops],
        }

    def op_log(self, limit: int = 100, actor: str | None = None, batch_id: str | None = None) -> pd.DataFrame:
        """The audit log, newest first."""
        return self._df(
            "SELECT op_id, ts, actor, kind, run_id, idx, batch_id, undo_of, undone_by, payload, \"before\", "
            "\"after\" FROM memory_ops WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR batch_id = ?) "
            "ORDER BY op_id DESC LIMIT ?", [actor, actor, batch_id, batch_id, int(limit)])
