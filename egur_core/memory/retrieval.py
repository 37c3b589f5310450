"""Similarity retrieval of library entries and notes, ranked inside DuckDB.

One SQL statement per kind: ``array_cosine_similarity`` over the fixed-size ``FLOAT[dim]``
embedding column, ``ORDER BY ... LIMIT k`` (a top-k, not a full sort), and the strategy JSON joined
only for the k winners. That keeps a 100,000-entry library well under the latency budget without
an index (see ``benchmarks/bench_retrieval.py``).

A zero vector (empty text) has no direction: DuckDB returns NaN for it, and NaN sorts first in
``DESC`` order, so NaN is mapped to -1 before ranking.

Benchmark filter: items tagged with that benchmark *or* untagged (``''``, general advice).
Banned items are never returned; pinned notes (that pass the benchmark filter) always are.
"""

from __future__ import annotations

import json

from ..strategy import Strategy
from .base import StoreBase
from .records import Retrieved, RetrievedEntry, RetrievedNote

_ENTRY_SQL = """
WITH ranked AS (
    SELECT entry_id, signature, benchmark, strategy_hash, uses, successes, total_cost, pinned,
           coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1) AS similarity
    FROM library
    WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')
    ORDER BY similarity DESC, entry_id
    LIMIT $k)
SELECT r.*, s.json FROM ranked r JOIN strategies s ON s.hash = r.strategy_hash
WHERE r.similarity >= $min ORDER BY r.similarity DESC, r.entry_id"""

_NOTE_SQL = """
WITH scored AS (
    SELECT note_id, text, benchmark, helpful, harmful, pinned,
           coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1) AS similarity
    FROM notes
    WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')),
top AS (SELECT * FROM scored WHERE NOT pinned AND similarity >= $min ORDER BY similarity DESC, note_id LIMIT $k)
SELECT * FROM top UNION ALL SELECT * FROM scored WHERE pinned
ORDER BY pinned DESC, similarity DESC, note_id"""


class RetrievalMixin(StoreBase):
    def retrieve(
        self, text: str, k_entries: int = 5, k_notes: int = 5, benchmark: str | None = None,
        min_similarity: float = 0.0,
    ) -> Retrieved:
        """The ``k_entries`` nearest library entries and ``k_notes`` nearest notes (plus every pinned
        note) for a problem text. Pure read: call ``record_retrievals`` to count and log the use."""
        query = self.embed(text)
        params = {"q": query, "bench": benchmark, "min": float(min_similarity)}
        entries = self._rows(_ENTRY_SQL.format(dim=self.dim), {**params, "k": int(k_entries)}) if k_entries > 0 else []
        notes = self._rows(_NOTE_SQL.format(dim=self.dim), {**params, "k": max(int(k_notes), 0)})
        return Retrieved(
            entries=[RetrievedEntry(rank=rank, strategy=Strategy.model_validate(json.loads(r.pop("json"))), **r)
                     for rank, r in enumerate(entries, 1)],
            notes=[RetrievedNote(rank=rank, **r) for rank, r in enumerate(notes, 1)],
        )
