"""Numbered schema migrations, recorded in ``schema_migrations`` (after simonw/llm ``migrations.py``).

A memory file outlives the code that wrote it, so the schema is never edited in place: each change
is a new function appended to :data:`MIGRATIONS`. Opening a file applies the ones it lacks, in
order, each in its own transaction. Never edit or reorder a released migration.

Embeddings are fixed-size ``FLOAT[dim]`` arrays (what ``array_cosine_similarity`` is fast on);
``dim`` comes from the store's embedder and is kept in ``meta`` so a changed embedder is noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from egur_core.memory.records import utcnow


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection, int], None]


MIGRATIONS: list[Migration] = []


def migration(fn: Callable[[duckdb.DuckDBPyConnection, int], None]) -> Callable:
    """Register ``fn`` as the next numbered migration."""
    MIGRATIONS.append(Migration(len(MIGRATIONS) + 1, fn.__name__, fn))
    return fn


def _run(con: duckdb.DuckDBPyConnection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            con.execute(statement)


@migration
def m001_initial(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    _run(con, f"""
    CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    CREATE TABLE id_counters (name VARCHAR PRIMARY KEY, next_id BIGINT NOT NULL);
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, benchmark VARCHAR NOT NULL,
        method VARCHAR NOT NULL DEFAULT 'egur', label VARCHAR DEFAULT '', config JSON,
        status VARCHAR NOT NULL DEFAULT 'running', simulated BOOLEAN NOT NULL DEFAULT false,
        model VARCHAR, n_problems INTEGER, k INTEGER, seed BIGINT, error VARCHAR);
    CREATE TABLE problems (
        run_id VARCHAR NOT NULL, idx INTEGER NOT NULL, problem_id VARCHAR, benchmark VARCHAR,
        text VARCHAR, gold VARCHAR, status VARCHAR NOT NULL DEFAULT 'running', answer VARCHAR,
        correct BOOLEAN, exploited BOOLEAN DEFAULT false, chosen_execution_id BIGINT,
        chosen_strategy_hash VARCHAR, cost_usd DOUBLE DEFAULT 0,
        cost_guide DOUBLE DEFAULT 0, cost_executor DOUBLE DEFAULT 0, cost_consolidator DOUBLE DEFAULT 0,
        tokens_guide_in BIGINT DEFAULT 0, tokens_guide_out BIGINT DEFAULT 0,
        tokens_executor_in BIGINT DEFAULT 0, tokens_executor_out BIGINT DEFAULT 0,
        tokens_consolidator_in BIGINT DEFAULT 0, tokens_consolidator_out BIGINT DEFAULT 0,
        calls INTEGER DEFAULT 0, latency_s DOUBLE DEFAULT 0, started_at TIMESTAMP,
        finished_at TIMESTAMP, error VARCHAR, PRIMARY KEY (run_id, idx));
    CREATE TABLE strategies (
        hash VARCHAR PRIMARY KEY, name VARCHAR, paradigm VARCHAR, summary VARCHAR, json JSON NOT NULL,
        parent_hash VARCHAR, created_by VARCHAR, created_at TIMESTAMP NOT NULL);
    CREATE TABLE executions (
        execution_id BIGINT PRIMARY KEY, run_id VARCHAR NOT NULL, idx INTEGER NOT NULL,
        candidate INTEGER, strategy_hash VARCHAR, rationale VARCHAR, answer VARCHAR, correct BOOLEAN,
        ok BOOLEAN, error VARCHAR, calls INTEGER, tokens_in BIGINT, tokens_out BIGINT, cost_usd DOUBLE,
        latency_s DOUBLE, trace JSON, chosen BOOLEAN DEFAULT false, exploited BOOLEAN DEFAULT false,
        created_at TIMESTAMP NOT NULL);
    CREATE TABLE library (
        entry_id BIGINT PRIMARY KEY, signature VARCHAR NOT NULL, benchmark VARCHAR NOT NULL DEFAULT '',
        strategy_hash VARCHAR NOT NULL, embedding FLOAT[{dim}], uses BIGINT NOT NULL DEFAULT 0,
        successes BIGINT NOT NULL DEFAULT 0, total_cost DOUBLE NOT NULL DEFAULT 0,
        retrievals BIGINT NOT NULL DEFAULT 0, pinned BOOLEAN NOT NULL DEFAULT false,
        banned BOOLEAN NOT NULL DEFAULT false, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
        last_used_at TIMESTAMP, created_run_id VARCHAR, created_idx INTEGER);
    CREATE TABLE notes (
        note_id BIGINT PRIMARY KEY, text VARCHAR NOT NULL, benchmark VARCHAR NOT NULL DEFAULT '',
        embedding FLOAT[{dim}], helpful BIGINT NOT NULL DEFAULT 0, harmful BIGINT NOT NULL DEFAULT 0,
        retrievals BIGINT NOT NULL DEFAULT 0, pinned BOOLEAN NOT NULL DEFAULT false,
        banned BOOLEAN NOT NULL DEFAULT false, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
        created_run_id VARCHAR, created_idx INTEGER);
    CREATE TABLE memory_ops (
        op_id BIGINT PRIMARY KEY, ts TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, run_id VARCHAR,
        idx INTEGER, kind VARCHAR NOT NULL, payload JSON, "before" JSON, "after" JSON,
        undo_of BIGINT, undone_by BIGINT)
    """)
    con.execute("INSERT INTO meta VALUES ('embedding_dim', ?)", [str(dim)])


@migration
def m002_retrievals_and_proposals(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    _run(con, """
    CREATE TABLE retrievals (
        run_id VARCHAR NOT NULL, idx INTEGER NOT NULL, kind VARCHAR NOT NULL, item_id BIGINT NOT NULL,
        rank INTEGER NOT NULL, similarity DOUBLE, ts TIMESTAMP NOT NULL);
    CREATE TABLE proposals (
        proposal_id BIGINT PRIMARY KEY, created_at TIMESTAMP NOT NULL, run_id VARCHAR, idx INTEGER,
        op JSON NOT NULL, status VARCHAR NOT NULL DEFAULT 'pending', decided_at TIMESTAMP,
        applied_op_id BIGINT, note VARCHAR DEFAULT '')
    """)


@migration
def m003_comparisons_stale_batches(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Runs join comparisons; a resumed problem marks old executions stale; ops group in batches."""
    _run(con, """
    ALTER TABLE runs ADD COLUMN comparison_id VARCHAR;
    ALTER TABLE executions ADD COLUMN stale BOOLEAN DEFAULT false;
    ALTER TABLE memory_ops ADD COLUMN batch_id VARCHAR
    """)


@migration
def m004_entry_example(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """An entry keeps the problem it solved: embedded with the signature, so re-embedding (undo,
    import, a new embedder) reproduces the same vector."""
    con.execute("ALTER TABLE library ADD COLUMN example VARCHAR DEFAULT ''")


@migration
def m005_response_cache(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Once created the response cache's table; that table now belongs to ``egur_core.llm.cache``, which
    registers its own migrations (:func:`migrate_owned`). Kept as a no-op so version numbers never move."""


@migration
def m006_baseline_memory(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Once created the baselines' tables; they now belong to ``egur_core.evals.baselines.memory_tables``.
    Kept as a no-op so version numbers never move."""


@migration
def m007_provenance_and_fallback(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Who made each strategy, entry and note and whether on the simulated model; library statistics
    measured on the simulated model counted apart; where each execution's feedback came from; which
    problems ran the fallback strategy.

    Old files: an entry or note takes the provenance of the run that made it. Old statistics cannot be
    told apart, so in a file with any simulated run they count as simulated: a real endpoint never
    exploits an entry on statistics that may have been earned on the simulator."""
    _run(con, """
    ALTER TABLE problems ADD COLUMN fallback BOOLEAN DEFAULT false;
    ALTER TABLE executions ADD COLUMN feedback_source VARCHAR;
    ALTER TABLE strategies ADD COLUMN made_by_model VARCHAR;
    ALTER TABLE strategies ADD COLUMN made_simulated BOOLEAN DEFAULT false;
    ALTER TABLE library ADD COLUMN origin VARCHAR DEFAULT 'learned';
    ALTER TABLE library ADD COLUMN made_by_model VARCHAR;
    ALTER TABLE library ADD COLUMN made_simulated BOOLEAN DEFAULT false;
    ALTER TABLE library ADD COLUMN sim_uses BIGINT DEFAULT 0;
    ALTER TABLE library ADD COLUMN sim_successes BIGINT DEFAULT 0;
    ALTER TABLE library ADD COLUMN sim_total_cost DOUBLE DEFAULT 0;
    ALTER TABLE notes ADD COLUMN made_by_model VARCHAR;
    ALTER TABLE notes ADD COLUMN made_simulated BOOLEAN DEFAULT false;
    UPDATE library SET made_simulated = coalesce(r.simulated, false), made_by_model = r.model,
        origin = CASE WHEN library.created_run_id IS NULL THEN 'person' ELSE 'learned' END
        FROM (SELECT run_id, simulated, model FROM runs) r WHERE r.run_id = library.created_run_id;
    UPDATE notes SET made_simulated = coalesce(r.simulated, false), made_by_model = r.model
        FROM (SELECT run_id, simulated, model FROM runs) r WHERE r.run_id = notes.created_run_id;
    UPDATE library SET sim_uses = uses, sim_successes = successes, sim_total_cost = total_cost
        WHERE EXISTS (SELECT 1 FROM runs WHERE simulated)
    """)


@migration
def m008_cached_tokens_and_prices(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Prompt tokens served from a provider's cache and reasoning tokens, apart; whether a run's models had a
    known price (an unknown price is shown as unknown, never as $0)."""
    _run(con, """
    ALTER TABLE problems ADD COLUMN tokens_cached_in BIGINT DEFAULT 0;
    ALTER TABLE problems ADD COLUMN tokens_reasoning BIGINT DEFAULT 0;
    ALTER TABLE runs ADD COLUMN price_known BOOLEAN DEFAULT true
    """)


def entry_embedding_text(signature: str, example: str | None) -> str:
    """What a library entry is embedded as: its signature, plus the example problem when known."""
    return f"{signature}\n{example}" if example else signature


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration, 0 for an empty database."""
    con.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)""")
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])


def migrate(con: duckdb.DuckDBPyConnection, dim: int, target: int | None = None) -> list[int]:
    """Apply every missing migration up to ``target`` (default: all); return the versions applied."""
    applied = []
    for m in MIGRATIONS:
        if m.version <= schema_version(con) or (target is not None and m.version > target):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            m.apply(con, dim)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [m.version, m.name, utcnow()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(m.version)
    return applied


OwnedMigration = tuple[str, str]
"""A migration of a module outside ``memory/`` that keeps tables in the memory file: ``(name, SQL script)``,
numbered by its position in the owner's list; ``{dim}`` in the script is the embedding size."""


def migrate_owned(con: duckdb.DuckDBPyConnection, owner: str, migrations: Sequence[OwnedMigration],
                  dim: int) -> list[int]:
    """Apply the owner's missing migrations in order, each in its own transaction, recorded in
    ``owned_migrations``; forward-only like the core list. Returns the versions applied."""
    con.execute("""CREATE TABLE IF NOT EXISTS owned_migrations (owner VARCHAR NOT NULL, version INTEGER NOT NULL,
        name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL, PRIMARY KEY (owner, version))""")
    done = int(con.execute("SELECT coalesce(max(version), 0) FROM owned_migrations WHERE owner = ?",
                           [owner]).fetchone()[0])
    applied = []
    for version, (name, script) in enumerate(migrations, start=1):
        if version <= done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            _run(con, script.replace("{dim}", str(dim)))
            con.execute("INSERT INTO owned_migrations VALUES (?, ?, ?, ?)", [owner, version, name, utcnow()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def stored_embedding_dim(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT value FROM meta WHERE key = 'embedding_dim'").fetchone()
    return int(row[0])


def reembed(con: duckdb.DuckDBPyConnection, embed: Callable[[str], list[float]], dim: int) -> None:
    """Rebuild every embedding with ``embed`` (a new embedder makes old vectors incomparable).

    Caller holds a transaction. The column is dropped and re-added because a ``FLOAT[n]`` array
    cannot be cast to another size.
    """
    for table, key, text in (("library", "entry_id", "signature, example"), ("notes", "note_id", "text, ''")):
        rows = con.execute(f"SELECT {key}, {text} FROM {table}").fetchall()
        con.execute(f"ALTER TABLE {table} DROP COLUMN embedding")
        con.execute(f"ALTER TABLE {table} ADD COLUMN embedding FLOAT[{dim}]")
        for item_id, value, example in rows:
            vector = embed(entry_embedding_text(value, example))
            con.execute(f"UPDATE {table} SET embedding = ? WHERE {key} = ?", [vector, item_id])
    con.execute("UPDATE meta SET value = ? WHERE key = 'embedding_dim'", [str(dim)])
