"""What each endpoint and model was found to accept, remembered in the memory file.

Negotiating a structured-output mode costs a refused request or two; once an endpoint+model has
accepted a mode, the next run (CLI or dashboard, any process sharing the file) starts there. The
table belongs to this module and is created through the store's ``ensure_tables``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

TABLE_OWNER = "endpoint_capabilities"
TABLES = (
    ("m001_endpoint_capabilities", """
    CREATE TABLE IF NOT EXISTS endpoint_capabilities (
        endpoint VARCHAR NOT NULL, model VARCHAR NOT NULL, capability VARCHAR NOT NULL, value VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL, PRIMARY KEY (endpoint, model, capability))"""),
)

Key = tuple[str, str, str]
"""(endpoint identity, model, capability), e.g. ("http://127.0.0.1:8080/v1", "qwen", "structured_mode")."""


class _Store(Protocol):
    def ensure_tables(self, owner: str, migrations: Any) -> None: ...
    def query(self, sql: str, params: list | None = None) -> list[dict[str, Any]]: ...
    def execute(self, sql: str, params: list | None = None) -> None: ...


class _Sessions(Protocol):
    def session(self) -> AbstractContextManager[_Store]: ...


class CapabilityMemory:
    """Read once per process, written through whenever something new is learned."""

    def __init__(self, memory: _Sessions):
        self.memory = memory
        self._known: dict[Key, str] | None = None

    def get(self, key: Key) -> str | None:
        return self._load().get(key)

    def remember(self, key: Key, value: str) -> None:
        if self._load().get(key) == value:
            return
        self._known[key] = value
        with self.memory.session() as store:
            store.ensure_tables(TABLE_OWNER, TABLES)
            store.execute("INSERT OR REPLACE INTO endpoint_capabilities VALUES (?, ?, ?, ?, ?)",
                          [*key, value, datetime.now(UTC).replace(tzinfo=None)])

    def forget(self, endpoint: str, model: str) -> None:
        """Renegotiate from the top (the connection test does, the endpoint may have changed)."""
        self._known = {k: v for k, v in self._load().items() if k[:2] != (endpoint, model)}
        with self.memory.session() as store:
            store.ensure_tables(TABLE_OWNER, TABLES)
            store.execute("DELETE FROM endpoint_capabilities WHERE endpoint = ? AND model = ?", [endpoint, model])

    def _load(self) -> dict[Key, str]:
        if self._known is None:
            with self.memory.session() as store:
                store.ensure_tables(TABLE_OWNER, TABLES)
                rows = store.query("SELECT endpoint, model, capability, value FROM endpoint_capabilities")
            self._known = {(r["endpoint"], r["model"], r["capability"]): r["value"] for r in rows}
        return self._known
