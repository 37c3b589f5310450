"""The baselines' memories in the memory file: cheatsheet versions and Mem0 facts.

They live in their own tables (migration ``m006_baseline_memory``), never in EGuR's library or
notes, so running a baseline can't change what EGuR retrieves. Every row carries a ``scope``
(comparison, method, seed): a warm-up pass and the evaluation pass after it share one; two
seeds don't. The store exposes no raw SQL, so these helpers use its cursor and transaction
directly, on these tables only.
"""

from __future__ import annotations

from typing import Any

from ..memory.records import utcnow


def latest_cheatsheet(store: Any, scope: str) -> tuple[int, str]:
    """(version, text) of the scope's newest cheatsheet; (0, "") before the first problem."""
    row = store.query_one("SELECT version, text FROM cheatsheet_versions WHERE scope = ? ORDER BY version DESC LIMIT 1",
                     [scope])
    return (int(row["version"]), row["text"]) if row else (0, "")


def save_cheatsheet(store: Any, scope: str, text: str, run_id: str, idx: int, tokens: int) -> int:
    with store.transaction():
        version = int(store.scalar("SELECT coalesce(max(version), 0) + 1 FROM cheatsheet_versions WHERE scope = ?",
                                    [scope]))
        store.execute("INSERT INTO cheatsheet_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [scope, version, run_id, idx, text, tokens, utcnow()])
    return version


def cheatsheet_history(store: Any, scope: str) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM cheatsheet_versions WHERE scope = ? ORDER BY version", [scope])


def _ensure_fact_dim(store: Any) -> None:
    """Facts were embedded by another embedder (other size): re-embed them with this one."""
    column = store.scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'mem0_facts' "
                           "AND column_name = 'embedding'")
    if column == f"FLOAT[{store.dim}]":
        return
    with store.transaction():
        rows = store.query("SELECT fact_id, text FROM mem0_facts")
        store.execute("ALTER TABLE mem0_facts DROP COLUMN embedding")
        store.execute(f"ALTER TABLE mem0_facts ADD COLUMN embedding FLOAT[{store.dim}]")
        for row in rows:
            store.execute("UPDATE mem0_facts SET embedding = ? WHERE fact_id = ?",
                              [store.embed(row["text"]), row["fact_id"]])


def add_facts(store: Any, scope: str, facts: list[str], run_id: str, idx: int, dedup_at: float = 0.95) -> list[int]:
    """Store new facts with embeddings, skipping exact and near duplicates (Mem0's ADD-only + dedup)."""
    _ensure_fact_dim(store)
    added: list[int] = []
    with store.transaction():
        for text in dict.fromkeys(f.strip() for f in facts if f and f.strip()):
            vector = store.embed(text)
            nearest = store.scalar(
                f"SELECT max(array_cosine_similarity(embedding, ?::FLOAT[{store.dim}])) FROM mem0_facts "
                "WHERE scope = ?", [vector, scope])
            if nearest is not None and nearest == nearest and nearest >= dedup_at:
                continue
            fact_id = store.next_id("mem0_facts", "mem0_facts", "fact_id")
            store.execute("INSERT INTO mem0_facts VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                              [fact_id, scope, run_id, idx, text, vector, utcnow()])
            added.append(fact_id)
    return added


def search_facts(store: Any, scope: str, query: str, k: int) -> list[dict[str, Any]]:
    """The ``k`` facts of the scope most similar to ``query`` (cosine in DuckDB), counted as retrieved."""
    if k <= 0:
        return []
    _ensure_fact_dim(store)
    rows = store.query(f"""
        SELECT fact_id, text, coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{store.dim}]),
               'NaN'::FLOAT), -1) AS similarity
        FROM mem0_facts WHERE scope = $scope ORDER BY similarity DESC, fact_id LIMIT $k""",
                       {"q": store.embed(query), "scope": scope, "k": int(k)})
    if rows:
        with store.transaction():
            store.execute("UPDATE mem0_facts SET retrievals = retrievals + 1 WHERE fact_id IN "
                              f"({', '.join(str(int(r['fact_id'])) for r in rows)})")
    return rows


def count_facts(store: Any, scope: str) -> int:
    return int(store.scalar("SELECT count(*) FROM mem0_facts WHERE scope = ?", [scope]))
