"""Connection plumbing shared by the store's parts: per-thread cursors, transactions, ids.

A DuckDB connection is not thread-safe but its cursors are, and they share one database. So the
store keeps the injected connection as a root and gives each thread its own cursor: one
``MemoryStore`` can serve the run thread and the dashboard at once. Writers are serialised with
one re-entrant lock, because two cursors updating the same row in overlapping transactions fail
with "Conflict on update" instead of waiting. The root connection itself is touched under a lock
shared by every store on it: DuckDB refuses a second call on a connection that is busy ("connection
is busy with another call") rather than waiting, so two threads opening a store, or making their
cursors, at once would otherwise fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd

from egur_core.memory.embedding import local_embedding
from egur_core.memory.migrations import OwnedMigration, migrate, migrate_owned, reembed, stored_embedding_dim

Embed = Callable[[str], list[float]]


def _store_floats_uncompressed(con: duckdb.DuckDBPyConnection) -> None:
    """Keep float columns uncompressed on disk: decoding ALP-compressed ``FLOAT[dim]`` embeddings
    was half the retrieval time (100k entries: 73 -> 46 ms) for ~10% file size. Strings and
    integers keep their compression. Older DuckDB without the setting just stays slower."""
    try:
        con.execute("SET disabled_compression_methods = 'alp,alprd,chimp,patas'")
    except duckdb.Error:
        pass


class StoreBase:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        embed: Embed = local_embedding,
        *,
        write_lock: threading.RLock | None = None,
        root_lock: threading.Lock | None = None,
    ) -> None:
        self._root = con
        self._root_lock = root_lock or threading.Lock()
        self._embed_fn = embed
        self._lock = write_lock or threading.RLock()
        self._cursors: dict[int, duckdb.DuckDBPyConnection] = {}
        self._cursors_lock = threading.Lock()
        self._local = threading.local()
        self._owned_ready: set[str] = set()
        self.dim = len(embed("dimension probe"))
        with self._root_lock:
            _store_floats_uncompressed(self._root)
        with self._lock:
            migrate(self._db, self.dim)
            if stored_embedding_dim(self._db) != self.dim:
                with self._tx():
                    reembed(self._db, self.embed, self.dim)

    # -- connection -------------------------------------------------------------------------
    @property
    def _db(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use; cursors of finished threads are closed)."""
        ident = threading.get_ident()
        cur = self._cursors.get(ident)
        if cur is None:
            with self._cursors_lock:
                alive = {t.ident for t in threading.enumerate()}
                for dead in [i for i in self._cursors if i not in alive]:
                    self._cursors.pop(dead).close()
                with self._root_lock:
                    cur = self._cursors[ident] = self._root.cursor()
        return cur

    def close(self) -> None:
        """Close this store's cursors; the injected connection stays the caller's to close."""
        with self._cursors_lock:
            for cur in self._cursors.values():
                cur.close()
            self._cursors.clear()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one (all-or-nothing)."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        with self._lock:
            self._db.execute("BEGIN TRANSACTION")
            self._local.depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._after_rollback()
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._local.depth = 0

    def _after_rollback(self) -> None:
        """Drop in-process caches of rows the rolled-back transaction had written."""

    # -- queries ------------------------------------------------------------------------------
    def _rows(self, sql: str, params: list | tuple | None = None) -> list[dict[str, Any]]:
        cur = self._db.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def _row(self, sql: str, params: list | tuple | None = None) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params: list | tuple | None = None) -> Any:
        row = self._db.execute(sql, params or []).fetchone()
        return row[0] if row else None

    def _changed(self, sql: str, params: list | tuple | None = None) -> int:
        """How many rows an UPDATE or DELETE changed: DuckDB answers the count, while ``RETURNING`` costs about
        2 ms more on a wide table (the library, the problems)."""
        return int(self._db.execute(sql, params or []).fetchone()[0])

    def _df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        return self._db.execute(sql, params or []).df()

    # -- public SQL surface, for modules that own tables in this file (response cache, baselines) and for
    #    read-only reporting queries; they go through the same per-thread cursor and write lock --------
    def query(self, sql: str, params: list | tuple | None = None) -> list[dict[str, Any]]:
        return self._rows(sql, params)

    def query_one(self, sql: str, params: list | tuple | None = None) -> dict[str, Any] | None:
        return self._row(sql, params)

    def query_df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        return self._df(sql, params)

    def scalar(self, sql: str, params: list | tuple | None = None) -> Any:
        return self._scalar(sql, params)

    def execute(self, sql: str, params: list | tuple | None = None) -> None:
        """A write; wrap several in ``transaction()`` to make them all-or-nothing."""
        with self._tx():
            self._db.execute(sql, params or [])

    def insert_frame(self, table: str, rows: Any) -> None:
        """Bulk insert (a pandas DataFrame or an Arrow table whose columns name the table's): for loading
        many rows at once, below the row-at-a-time API. Joins an open transaction."""
        with self._tx():
            self._db.register("_egur_rows", rows)
            try:
                self._db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _egur_rows")
            finally:
                self._db.unregister("_egur_rows")

    def checkpoint(self) -> None:
        """Write the write-ahead log into the file now (outside any transaction)."""
        with self._lock:
            self._db.execute("CHECKPOINT")

    def ensure_tables(self, owner: str, migrations: Sequence[OwnedMigration]) -> None:
        """Create or upgrade the tables a module outside ``memory/`` keeps in this file (the response cache,
        the baselines' memories): its own numbered, forward-only migrations. Call it before the first
        query on those tables, outside any transaction; later calls in this process cost nothing."""
        if owner in self._owned_ready:
            return
        with self._lock:
            migrate_owned(self._db, owner, migrations, self.dim)
        self._owned_ready.add(owner)

    def next_id(self, name: str, table: str, column: str) -> int:
        """A never-reused id for a row of ``table`` (see ``_next_id``)."""
        return self._next_id(name, table, column)

    def transaction(self):
        """Group several writes into one all-or-nothing transaction (store methods inside it join it)."""
        return self._tx()

    def _next_id(self, name: str, table: str, column: str) -> int:
        """A never-reused id: undo re-inserts deleted rows with their ids, so ids must not recycle."""
        return self._next_ids(name, table, column, 1)[0]

    def _next_ids(self, name: str, table: str, column: str, count: int) -> list[int]:
        """``count`` consecutive never-reused ids, taken in one statement once the counter exists: a problem
        takes several, and each statement is a round trip."""
        with self._tx():
            taken = self._db.execute("UPDATE id_counters SET next_id = next_id + ? WHERE name = ? RETURNING next_id",
                                     [count, name]).fetchone()
            if taken is not None:
                end = int(taken[0])
                return list(range(end - count, end))
            first = int(self._scalar(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}"))
            self._db.execute("INSERT INTO id_counters VALUES (?, ?)", [name, first + count])
            return list(range(first, first + count))

    def _bump_counter(self, name: str, at_least: int) -> None:
        """Make sure ``name`` hands out ids >= ``at_least`` (after inserting rows with given ids)."""
        current = self._scalar("SELECT next_id FROM id_counters WHERE name = ?", [name])
        if current is None:
            self._db.execute("INSERT INTO id_counters VALUES (?, ?)", [name, at_least])
        elif current < at_least:
            self._db.execute("UPDATE id_counters SET next_id = ? WHERE name = ?", [at_least, name])

    def embed(self, text: str) -> list[float]:
        """The injected embedder, checked: a wrong size would poison every later similarity."""
        vector = [float(v) for v in self._embed_fn(text)]
        if len(vector) != self.dim:
            raise ValueError(f"embedder returned {len(vector)} values, expected {self.dim}")
        return vector
