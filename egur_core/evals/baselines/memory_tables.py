"""The baselines' memories in the memory file: cheatsheet versions and Mem0 facts.

They live in their own tables (this module's migrations, :data:`TABLES`), never in EGuR's library
or notes, so running a baseline can't change what EGuR retrieves. Every row carries a ``scope``
(comparison, method, seed): a warm-up pass and the evaluation pass after it share one; two
seeds don't. These helpers go through the store's public SQL surface, on these tables only.
"""

from __future__ import annotations

from typing import Any

from egur_core.memory.records import utcnow
from egur_core.memory.store import MemoryStore

TABLE_OWNER = "baseline_memory"
TABLES = (
    # first created by the memory's own migration 6; IF NOT EXISTS adopts those files
    ("m001_cheatsheets_and_facts", """
    CREATE TABLE IF NOT EXISTS cheatsheet_versions (
        scope VARCHAR NOT NULL, version INTEGER NOT NULL, run_id VARCHAR, idx INTEGER, text VARCHAR NOT NULL,
        tokens INTEGER, created_at TIMESTAMP NOT NULL, PRIMARY KEY (scope, version));
    CREATE TABLE IF NOT EXISTS mem0_facts (
        fact_id BIGINT PRIMARY KEY, scope VARCHAR NOT NULL, run_id VARCHAR, idx INTEGER, text VARCHAR NOT NULL,
        embedding FLOAT[{dim}], retrievals BIGINT NOT NULL DEFAULT 0, created_at TIMESTAMP NOT NULL)"""),
)


def _ready(store: MemoryStore) -> MemoryStore:
    store.ensure_tables(TABLE_OWNER, TABLES)
    return store


def latest_cheatsheet(store: MemoryStore, scope: str) -> tuple[int, str]:
    """(version, text) of the scope's newest cheatsheet; (0, "") before the first problem."""
    row = _ready(store).query_one(
        "SELECT version, text FROM cheatsheet_versions WHERE scope = ? ORDER BY version DESC LIMIT 1", [scope])
    return (int(row["version"]), row["text"]) if row else (0, "")


def save_cheatsheet(store: MemoryStore, scope: str, text: str, run_id: str, idx: int, tokens: int) -> int:
    with _ready(store).transaction():
        version = int(store.scalar("SELECT coalesce(max(version), 0) + 1 FROM cheatsheet_versions WHERE scope = ?",
                                    [scope]))
        store.execute("INSERT INTO cheatsheet_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [scope, version, run_id, idx, text, tokens, utcnow()])
    return version


def cheatsheet_history(store: MemoryStore, scope: str) -> list[dict[str, Any]]:
    return _ready(store).query("SELECT * FROM cheatsheet_versions WHERE scope = ? ORDER BY version", [scope])


def _ensure_fact_dim(store: MemoryStore) -> None:
    """Facts were embedded by another embedder (other size): re-embed them with this one."""
    column = _ready(store).scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'mem0_facts' "
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


def add_facts(store: MemoryStore, scope: str, facts: list[str], run_id: str, idx: int,
              dedup_at: float = 0.95) -> list[int]:
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


def search_facts(store: MemoryStore, scope: str, query: str, k: int) -> list[dict[str, Any]]:
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


def count_facts(store: MemoryStore, scope: str) -> int:
    return int(_ready(store).scalar("SELECT count(*) FROM mem0_facts WHERE scope = ?", [scope]))
