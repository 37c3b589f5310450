"""Similarity retrieval of library entries and notes.

Notes (a few hundred at most) are ranked inside DuckDB with ``array_cosine_similarity``. Library
entries can number 100,000: DuckDB scores a single row group on one thread (~60 ms here), so the
entries' vectors are kept in a numpy matrix per store, reloaded only when a fingerprint of the
library (row count and a hash of every row's id, update time, ban flag and benchmark) changes;
ranking is then one matrix-vector product (~3 ms). The k winners' stats and strategies come from
DuckDB, so what is returned is never stale (see ``perf/bench_retrieval.py``).

A zero vector (empty text) has no direction: DuckDB returns NaN for it, and NaN sorts first in
``DESC`` order, so NaN is mapped to -1 before ranking.

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

_ENTRY_FINGERPRINT_SQL = """
SELECT count(*) AS n, coalesce(sum(hash(entry_id, updated_at, banned, benchmark)::HUGEINT), 0) AS h FROM library"""
_ENTRY_MATRIX_SQL = "SELECT entry_id, benchmark, banned, embedding FROM library ORDER BY entry_id"
_ENTRY_ROWS_SQL = """
SELECT entry_id, signature, benchmark, strategy_hash, uses, successes, total_cost, pinned, origin, sim_uses,
       sim_successes, sim_total_cost
FROM library WHERE entry_id IN ({ids})"""
_STRATEGY_JSON_SQL = "SELECT hash, json FROM strategies WHERE list_contains(?::VARCHAR[], hash)"
"""Two lookups by key, not a join: DuckDB joins by scanning every strategy (5.5 ms at 10,000, against 3)."""
_STRATEGY_CACHE_SIZE = 5_000

_NOTE_SQL = """
WITH scored AS (
    SELECT note_id, text, benchmark, helpful, harmful, pinned,
           coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1) AS similarity
    FROM notes
    WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')),
top AS (SELECT * FROM scored WHERE NOT pinned AND similarity >= $min ORDER BY similarity DESC, note_id LIMIT $k)
SELECT * FROM top UNION ALL SELECT * FROM scored WHERE pinned
ORDER BY pinned DESC, similarity DESC, note_id"""


@dataclass(frozen=True)
class _EntryMatrix:
    fingerprint: tuple
    ids: np.ndarray  # int64, ascending
    benchmarks: np.ndarray  # object (str)
    banned: np.ndarray  # bool
    unit: np.ndarray  # float32 (n, dim), rows L2-normalised
    valid: np.ndarray  # bool: the row has a direction (a zero vector scores -1, as in the SQL ranking)


def _matrix_from(table: pa.Table, dim: int, fingerprint: tuple) -> _EntryMatrix:
    n = table.num_rows
    vectors = np.zeros((n, dim), dtype=np.float32)  # a missing embedding stays a zero vector
    if n:
        column = table.column("embedding").combine_chunks()
        present = ~column.is_null().to_numpy(zero_copy_only=False)
        flat = column.filter(present).flatten().to_numpy(zero_copy_only=False)
        vectors[present] = np.asarray(flat, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return _EntryMatrix(fingerprint, table.column("entry_id").to_numpy(),
                        np.asarray(table.column("benchmark").to_pylist(), dtype=object),
                        table.column("banned").to_numpy(zero_copy_only=False), unit, norms.ravel() > 0)


class RetrievalMixin(StoreBase):
    _matrix: _EntryMatrix | None = None
    _strategy_json: dict[str, str]  # set by the store
    _matrix_lock = threading.Lock()

    def _entry_matrix(self) -> _EntryMatrix:
        row = self._row(_ENTRY_FINGERPRINT_SQL)
        fingerprint = (int(row["n"]), int(row["h"]))
        with self._matrix_lock:
            if self._matrix is None or self._matrix.fingerprint != fingerprint:
                table = self._db.sql(_ENTRY_MATRIX_SQL).to_arrow_table()
                self._matrix = _matrix_from(table, self.dim, fingerprint)
            return self._matrix

    def _nearest_entries(self, query: list[float], k: int, benchmark: str | None,
                         min_similarity: float) -> list[dict]:
        """Top-k entries by cosine similarity, ties by id; the same order the SQL ranking gives."""
        matrix = self._entry_matrix()
        if k <= 0 or matrix.ids.size == 0:
            return []
        q = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if norm:
            sims = np.where(matrix.valid, matrix.unit @ (q / norm), np.float32(-1.0))
        else:
            sims = np.full(matrix.ids.size, -1.0, dtype=np.float32)
        allowed = ~matrix.banned
        if benchmark is not None:
            allowed &= (matrix.benchmarks == benchmark) | (matrix.benchmarks == "")
        sims = np.where(allowed, sims, -np.inf)
        k = min(k, int(allowed.sum()))
        if k == 0:
            return []
        nearest = np.argpartition(-sims, k - 1)[:k]  # O(n) top-k, then order just those
        top = nearest[np.lexsort((matrix.ids[nearest], -sims[nearest]))]
        top = top[sims[top] >= min_similarity]
        similarity = {int(matrix.ids[i]): float(sims[i]) for i in top}
        rows = {r["entry_id"]: r for r in self._rows(_ENTRY_ROWS_SQL.format(ids=", ".join(map(str, similarity))))}
        json_of = self._strategy_texts({r["strategy_hash"] for r in rows.values()})
        return [{**rows[i], "json": json_of[rows[i]["strategy_hash"]], "similarity": similarity[i]}
                for i in similarity if i in rows and rows[i]["strategy_hash"] in json_of]

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
        params = {"q": query, "bench": benchmark, "min": float(min_similarity)}
        entries = self._nearest_entries(query, int(k_entries), benchmark, float(min_similarity))
        notes = self._rows(_NOTE_SQL.format(dim=self.dim), {**params, "k": max(int(k_notes), 0)})
        return Retrieved(
            entries=[RetrievedEntry(rank=rank, strategy=Strategy.model_validate(json.loads(r.pop("json"))), **r)
                     for rank, r in enumerate(entries, 1)],
            notes=[RetrievedNote(rank=rank, **r) for rank, r in enumerate(notes, 1)],
        )
