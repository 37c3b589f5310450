"""Similarity retrieval of library entries and notes.

Library entries can number 100,000 and notes a few hundred. DuckDB scores a single row group on one
thread (~60 ms for 100,000 entries here) and even a few hundred notes cost ~4 ms a query, so each
table's vectors are kept in a numpy matrix per store, reloaded only when a fingerprint of the table
(its row count and the XOR of a hash of what ranking reads of each row) changes; both fingerprints are one
statement, and ranking is one matrix-vector product (~3 ms at 100,000). The k winning entries'
stats and strategies come from DuckDB, so what is returned is never stale; a note is returned from
its cached row, which the fingerprint covers whole (see ``perf/bench_retrieval.py``).

A zero vector (empty text) has no direction: it scores -1, below any real similarity.

Benchmark filter: items tagged with that benchmark *or* untagged (``''``, general advice).
Banned items are never returned; pinned notes (that pass the benchmark filter) always are.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from egur_core.memory.base import StoreBase
from egur_core.memory.records import Retrieved, RetrievedEntry, RetrievedNote
from egur_core.strategy.model import Strategy

_NOTE_COLUMNS = ("note_id", "text", "benchmark", "helpful", "harmful", "pinned")
_FINGERPRINTS_SQL = f"""
SELECT 'entries' AS vectors, count(*) AS n, bit_xor(hash(entry_id, updated_at, banned, benchmark)) AS h FROM library
UNION ALL
SELECT 'notes', count(*), bit_xor(hash({", ".join(_NOTE_COLUMNS)}, banned, updated_at)) FROM notes"""
"""Both tables' fingerprints in one statement: a union (scalar subqueries and a HUGEINT sum cost 2.5x as much)."""
_VECTORS_SQL = {
    "entries": "SELECT entry_id AS id, benchmark, banned, embedding FROM library ORDER BY entry_id",
    "notes": f"SELECT note_id AS id, {', '.join(_NOTE_COLUMNS[1:])}, banned, embedding FROM notes ORDER BY note_id",
}
_ENTRY_ROWS_SQL = """
SELECT entry_id, signature, benchmark, strategy_hash, uses, successes, total_cost, pinned, origin, sim_uses,
       sim_successes, sim_total_cost
FROM library WHERE entry_id IN ({ids})"""
_STRATEGY_JSON_SQL = "SELECT hash, json FROM strategies WHERE list_contains(?::VARCHAR[], hash)"
"""Two lookups by key, not a join: DuckDB joins by scanning every strategy (5.5 ms at 10,000, against 3)."""
_STRATEGY_CACHE_SIZE = 5_000


@dataclass(frozen=True)
class _Vectors:
    """One table's rows as ranking sees them, in id order."""

    fingerprint: tuple
    ids: np.ndarray  # int64, ascending
    benchmarks: np.ndarray  # object (str)
    banned: np.ndarray  # bool
    unit: np.ndarray  # float32 (n, dim), rows L2-normalised
    valid: np.ndarray  # bool: the row has a direction (a zero vector scores -1)
    rows: tuple[dict, ...] = ()  # notes only: what a retrieved note shows

    def similarities(self, query: list[float]) -> np.ndarray:
        q = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if not norm:
            return np.full(self.ids.size, -1.0, dtype=np.float32)
        return np.where(self.valid, self.unit @ (q / norm), np.float32(-1.0))

    def allowed(self, benchmark: str | None) -> np.ndarray:
        allowed = ~self.banned
        if benchmark is not None:
            allowed &= (self.benchmarks == benchmark) | (self.benchmarks == "")
        return allowed

    def top(self, sims: np.ndarray, allowed: np.ndarray, k: int, min_similarity: float) -> np.ndarray:
        """Positions of the ``k`` best allowed rows scoring at least ``min_similarity``, best first, ties by id."""
        sims = np.where(allowed, sims, -np.inf)
        k = min(k, int(allowed.sum()))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        nearest = np.argpartition(-sims, k - 1)[:k]  # O(n) top-k, then order just those
        best = nearest[np.lexsort((self.ids[nearest], -sims[nearest]))]
        return best[sims[best] >= min_similarity]


def _vectors_from(table: pa.Table, dim: int, fingerprint: tuple, with_rows: bool) -> _Vectors:
    n = table.num_rows
    vectors = np.zeros((n, dim), dtype=np.float32)  # a missing embedding stays a zero vector
    if n:
        column = table.column("embedding").combine_chunks()
        present = ~column.is_null().to_numpy(zero_copy_only=False)
        flat = column.filter(present).flatten().to_numpy(zero_copy_only=False)
        vectors[present] = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    rows = tuple(table.select(["id", *_NOTE_COLUMNS[1:]]).rename_columns(_NOTE_COLUMNS).to_pylist()) \
        if with_rows else ()
    return _Vectors(fingerprint, table.column("id").to_numpy(),
                    np.asarray(table.column("benchmark").to_pylist(), dtype=object),
                    table.column("banned").to_numpy(zero_copy_only=False), unit, norms.ravel() > 0, rows)


class RetrievalMixin(StoreBase):
    _vectors: dict[str, _Vectors]  # set by the store
    _strategy_json: dict[str, str]  # set by the store
    _vectors_lock = threading.Lock()

    def _current_vectors(self) -> tuple[_Vectors, _Vectors]:
        """Entries' and notes' vectors as they are now: one statement when neither table changed."""
        fingerprints = {r["vectors"]: (int(r["n"]), r["h"]) for r in self._rows(_FINGERPRINTS_SQL)}
        with self._vectors_lock:
            for table, fingerprint in fingerprints.items():
                cached = self._vectors.get(table)
                if cached is None or cached.fingerprint != fingerprint:
                    arrow = self._db.sql(_VECTORS_SQL[table]).to_arrow_table()
                    self._vectors[table] = _vectors_from(arrow, self.dim, fingerprint, with_rows=table == "notes")
            return self._vectors["entries"], self._vectors["notes"]

    def _nearest_entries(self, entries: _Vectors, query: list[float], k: int, benchmark: str | None,
                         min_similarity: float) -> list[dict]:
        """Top-k entries by cosine similarity, ties by id, with their current stats and strategy."""
        sims = entries.similarities(query)
        top = entries.top(sims, entries.allowed(benchmark), k, min_similarity)
        similarity = {int(entries.ids[i]): float(sims[i]) for i in top}
        if not similarity:
            return []
        rows = {r["entry_id"]: r for r in self._rows(_ENTRY_ROWS_SQL.format(ids=", ".join(map(str, similarity))))}
        json_of = self._strategy_texts({r["strategy_hash"] for r in rows.values()})
        return [{**rows[i], "json": json_of[rows[i]["strategy_hash"]], "similarity": similarity[i]}
                for i in similarity if i in rows and rows[i]["strategy_hash"] in json_of]

    @staticmethod
    def _nearest_notes(notes: _Vectors, query: list[float], k: int, benchmark: str | None,
                       min_similarity: float) -> list[dict]:
        """The ``k`` nearest unpinned notes, then every pinned one: pinned first, then by similarity, ties by id."""
        sims = notes.similarities(query)
        allowed = notes.allowed(benchmark)
        pinned = np.fromiter((r["pinned"] for r in notes.rows), dtype=bool, count=len(notes.rows))
        chosen = [*notes.top(sims, allowed & ~pinned, k, min_similarity), *np.flatnonzero(allowed & pinned)]
        found = [{**notes.rows[i], "similarity": float(sims[i])} for i in chosen]
        return sorted(found, key=lambda n: (not n["pinned"], -n["similarity"], n["note_id"]))

    def _strategy_texts(self, hashes: set[str]) -> dict[str, str]:
        """Strategies' JSON by hash; versions are immutable and never deleted, so each is read from DuckDB once
        per store (a bounded cache: the nearest entries of a stream of problems repeat)."""
        missing = sorted(hashes - self._strategy_json.keys())
        if missing:
            if len(self._strategy_json) > _STRATEGY_CACHE_SIZE:
                self._strategy_json.clear()
            self._strategy_json.update((r["hash"], r["json"]) for r in self._rows(_STRATEGY_JSON_SQL, [missing]))
        return {h: self._strategy_json[h] for h in hashes if h in self._strategy_json}

    def retrieve(
        self, text: str, k_entries: int = 5, k_notes: int = 5, benchmark: str | None = None,
        min_similarity: float = 0.0,
    ) -> Retrieved:
        """The ``k_entries`` nearest library entries and ``k_notes`` nearest notes (plus every pinned
        note) for a problem text. Pure read: call ``record_retrievals`` to count and log the use."""
        query = self.embed(text)
        entries, notes = self._current_vectors()
        nearest = self._nearest_entries(entries, query, int(k_entries), benchmark, float(min_similarity))
        noted = self._nearest_notes(notes, query, max(int(k_notes), 0), benchmark, float(min_similarity))
        return Retrieved(
            entries=[RetrievedEntry(rank=rank, strategy=Strategy.model_validate(json.loads(r.pop("json"))), **r)
                     for rank, r in enumerate(nearest, 1)],
            notes=[RetrievedNote(rank=rank, **r) for rank, r in enumerate(noted, 1)],
        )
