"""A response cache in DuckDB: identical model requests answered from the memory file.

Why: a comparison on a paid endpoint should be replayable at zero cost and *exactly* (same
replies, same answers), e.g. after changing the report or the scorer. So the cache is a
record/replay log rather than a memo table: the i-th identical request of a session is matched
to the i-th recorded reply (``occurrence``). That keeps repeated samples independent (a strategy
that asks the same question five times still gets five recorded replies, not one reply five
times) and means a first run spends exactly what it would without a cache.

Replies are kept per ``namespace`` (the bench uses the method name), so two methods never answer
each other's requests and one method's costs never depend on another's timing.

Access pattern: the namespace is read once into memory on first use and new replies are written
in batches, because opening the memory file per call (~30 ms) would dominate a simulated run and
holding it open would lock the dashboard out. Call :meth:`flush` (or :meth:`close`) at the end.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from egur_core.llm.pricing import Usage

__all__ = ["CachedReply", "ResponseCache", "Ticket", "cache_stats", "clear_cache", "request_key"]


TABLE_OWNER = "response_cache"
TABLES = (
    # the first version was created by the memory's own migration 5; IF NOT EXISTS adopts those files
    ("m001_response_cache", """
    CREATE TABLE IF NOT EXISTS response_cache (
        namespace VARCHAR NOT NULL, key VARCHAR NOT NULL, occurrence INTEGER NOT NULL, model VARCHAR,
        texts JSON NOT NULL, finish_reasons JSON, prompt_tokens BIGINT, completion_tokens BIGINT,
        estimated BOOLEAN DEFAULT false, cost_usd DOUBLE DEFAULT 0, hits BIGINT NOT NULL DEFAULT 0,
        created_at TIMESTAMP NOT NULL, PRIMARY KEY (namespace, key, occurrence))"""),
    ("m002_tool_calls", "ALTER TABLE response_cache ADD COLUMN IF NOT EXISTS tool_calls JSON"),
)
"""This module's tables in the memory file, as numbered migrations (see ``MemoryStore.ensure_tables``)."""


class _Store(Protocol):
    """The part of ``MemoryStore`` the cache uses: its public SQL surface."""

    def ensure_tables(self, owner: str, migrations: Any) -> None: ...
    def query(self, sql: str, params: list | None = None) -> list[dict[str, Any]]: ...
    def scalar(self, sql: str, params: list | None = None) -> Any: ...
    def execute(self, sql: str, params: list | None = None) -> None: ...
    def transaction(self) -> AbstractContextManager[None]: ...


class _Sessions(Protocol):
    def session(self) -> AbstractContextManager[_Store]: ...


def _ready(store: _Store) -> _Store:
    store.ensure_tables(TABLE_OWNER, TABLES)
    return store


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CachedReply:
    texts: list[str]
    finish_reasons: list[str]
    usage: Usage
    cost_usd: float  # what the original call cost (reported as saved; a hit itself costs 0)
    model: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # the first choice's, as ToolCall dicts


def request_key(endpoint: str, params: dict[str, Any]) -> str:
    """sha256 of the endpoint identity and every request parameter that can change the reply."""
    canonical = json.dumps({"endpoint": endpoint, **params}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def endpoint_identity(settings: Any, endpoint: str, transport_identity: str | None = None) -> str:
    """Which server answers: the client's transport when it has one (the simulated model says its seed and
    code version), else the endpoint's base URL."""
    if transport_identity:
        return transport_identity
    ep = settings.endpoints[endpoint]
    if ep.simulated:
        return f"simulated:seed={settings.sim_seed}"
    return ep.base_url or "https://api.openai.com/v1"


class Ticket:
    """One request's place in the cache: ``hit`` when a reply was recorded, else ``save`` one."""

    def __init__(self, cache: ResponseCache, key: str, occurrence: int, hit: CachedReply | None):
        self.cache, self.key, self.occurrence, self.hit = cache, key, occurrence, hit

    def save(self, result: Any) -> None:
        """Record a fresh ``ChatResult`` under this ticket (written at the next flush)."""
        self.cache.record(self.key, self.occurrence, CachedReply(
            texts=list(result.texts), finish_reasons=list(result.finish_reasons), usage=result.usage,
            cost_usd=float(result.cost_usd), model=result.model,
            tool_calls=[call.model_dump() for call in result.tool_calls]))


class ResponseCache:
    """Record/replay of model replies in the ``response_cache`` table of a memory file."""

    def __init__(self, memory: _Sessions, namespace: str = "default", *, flush_every: int = 64):
        self.memory, self.namespace, self.flush_every = memory, namespace, flush_every
        self._replies: dict[tuple[str, int], CachedReply] | None = None
        self._seen: Counter[str] = Counter()
        self._hits: Counter[tuple[str, int]] = Counter()
        self._pending: list[tuple[str, int, CachedReply]] = []
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        self.saved_usd = 0.0

    def claim(self, endpoint: str, params: dict[str, Any]) -> Ticket:
        """The next occurrence of this request: with its recorded reply when there is one."""
        key = request_key(endpoint, params)
        with self._lock:
            replies = self._load()
            occurrence = self._seen[key]
            self._seen[key] += 1
            hit = replies.get((key, occurrence))
            if hit is None:
                self.misses += 1
            else:
                self.hits += 1
                self.saved_usd += hit.cost_usd
                self._hits[(key, occurrence)] += 1
        return Ticket(self, key, occurrence, hit)

    def record(self, key: str, occurrence: int, reply: CachedReply) -> None:
        """Queue a fresh reply for the next flush (flushing when the batch is full)."""
        with self._lock:
            self._pending.append((key, occurrence, reply))
            full = len(self._pending) >= self.flush_every
        if full:
            self.flush()

    def _load(self) -> dict[tuple[str, int], CachedReply]:
        if self._replies is None:
            with self.memory.session() as store:
                rows = _ready(store).query(  # this table is the cache's own
                    "SELECT key, occurrence, model, texts, finish_reasons, prompt_tokens, completion_tokens, "
                    "estimated, cost_usd, tool_calls FROM response_cache WHERE namespace = ?", [self.namespace])
            self._replies = {(r["key"], r["occurrence"]): _reply(r) for r in rows}
        return self._replies

    def flush(self) -> int:
        """Write recorded replies and hit counts; returns how many replies were written."""
        with self._lock:
            pending, self._pending = self._pending, []
            hits, self._hits = self._hits, Counter()
        if not pending and not hits:
            return 0
        with self.memory.session() as store, _ready(store).transaction():
            for key, occurrence, reply in pending:
                store.execute(
                    "INSERT INTO response_cache (namespace, key, occurrence, model, texts, finish_reasons, "
                    "prompt_tokens, completion_tokens, estimated, cost_usd, hits, created_at, tool_calls) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
                    [self.namespace, key, occurrence, reply.model, json.dumps(reply.texts),
                     json.dumps(reply.finish_reasons), reply.usage.prompt_tokens, reply.usage.completion_tokens,
                     reply.usage.estimated, reply.cost_usd, _utcnow(),
                     json.dumps(reply.tool_calls) if reply.tool_calls else None])
            for (key, occurrence), count in hits.items():
                store.execute("UPDATE response_cache SET hits = hits + ? WHERE namespace = ? AND key = ? "
                                  "AND occurrence = ?", [count, self.namespace, key, occurrence])
        if self._replies is not None:
            self._replies.update({(k, o): r for k, o, r in pending})
        return len(pending)

    close = flush

    def stats(self) -> dict[str, Any]:
        """This session's hits and misses (the table-wide view is :func:`cache_stats`)."""
        return {"namespace": self.namespace, "hits": self.hits, "misses": self.misses,
                "saved_usd": round(self.saved_usd, 6)}


def _reply(row: dict[str, Any]) -> CachedReply:
    return CachedReply(
        texts=json.loads(row["texts"]), finish_reasons=json.loads(row["finish_reasons"] or "[]"),
        usage=Usage(prompt_tokens=int(row["prompt_tokens"] or 0), completion_tokens=int(row["completion_tokens"] or 0),
                    estimated=bool(row["estimated"])),
        cost_usd=float(row["cost_usd"] or 0.0), model=row["model"] or "",
        tool_calls=json.loads(row["tool_calls"] or "[]"))


def cache_stats(store: _Store) -> list[dict[str, Any]]:
    """Per namespace: entries, hits, what the recorded calls cost and what the hits saved, size."""
    return _ready(store).query("""
        SELECT namespace, count(*) AS entries, sum(hits) AS hits, sum(cost_usd) AS recorded_usd,
               sum(cost_usd * hits) AS saved_usd, sum(prompt_tokens + completion_tokens) AS tokens,
               sum(length(texts)) AS text_bytes, min(created_at) AS first, max(created_at) AS last
        FROM response_cache GROUP BY namespace ORDER BY namespace""")


def clear_cache(store: _Store, namespace: str | None = None) -> int:
    """Delete the cached replies (of one namespace, or all); returns how many were deleted."""
    with _ready(store).transaction():
        count = int(store.scalar("SELECT count(*) FROM response_cache WHERE ? IS NULL OR namespace = ?",
                                  [namespace, namespace]))
        store.execute("DELETE FROM response_cache WHERE ? IS NULL OR namespace = ?", [namespace, namespace])
    return count
