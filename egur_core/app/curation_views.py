"""What the Memory page needs to make curation safe at scale: the review queue grouped by problem and
decided in bulk, the audit log filtered by entry or note with each op's before/after diff, and the
batches one can undo, described so that a person chooses one (none is preselected).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from egur_core.memory.records import MemoryOpError, Proposal
from egur_core.memory.review import DUPLICATE
from egur_core.memory.store import MemoryStore

HIDDEN = {"embedding", "example"}
"""Columns an op diff leaves out: a vector, and the (long) problem text an entry keeps for re-embedding."""


@dataclass(frozen=True)
class ProblemProposals:
    """The proposals one problem's Consolidator made (``number`` is 1-based; None for no problem)."""

    run_id: str | None
    number: int | None
    proposals: list[Proposal]

    @property
    def label(self) -> str:
        where = f"run `{self.run_id}` problem #{self.number}" if self.run_id else "no run"
        return f"{where} · {len(self.proposals)} proposal(s)"


def group_by_problem(proposals: Iterable[Proposal]) -> list[ProblemProposals]:
    """Pending proposals grouped by the problem that produced them, oldest first."""
    groups: dict[tuple[str | None, int | None], list[Proposal]] = {}
    for p in proposals:
        groups.setdefault((p.run_id, p.idx), []).append(p)
    return [ProblemProposals(run, None if idx is None else idx + 1, items) for (run, idx), items in groups.items()]


def set_aside_table(proposals: Iterable[Proposal]) -> pd.DataFrame:
    """The duplicates a rule set aside, one row each: which problem wanted what, and the entry that has it."""
    columns = ["problem", "why", "signature", "run", "proposal"]
    return pd.DataFrame([{"problem": None if p.idx is None else p.idx + 1, "why": p.note.removeprefix(DUPLICATE),
                          "signature": p.op.get("signature", ""), "run": p.run_id, "proposal": p.proposal_id}
                         for p in proposals], columns=columns)


def decide_many(store: MemoryStore, proposal_ids: Iterable[int], approve: bool,
                note: str = "") -> tuple[list[int], list[str]]:
    """Approve (or reject) each proposal in its own transaction; one that no longer applies is skipped and
    reported, the others still go through. Returns (op ids or proposal ids done, problems)."""
    done, problems = [], []
    for pid in proposal_ids:
        try:
            if approve:
                done.append(store.approve(pid))
            else:
                store.reject(pid, note=note)
                done.append(pid)
        except MemoryOpError as exc:
            problems.append(f"proposal {pid}: {exc}")
    return done, problems


Kind = Literal["entry", "note"]


def op_page(store: MemoryStore, limit: int = 30, actor: str | None = None, item: tuple[Kind, int] | None = None,
            batch_id: str | None = None) -> pd.DataFrame:
    """The audit log, newest first, optionally only the ops that touched one entry or note."""
    path = f'$.{item[0]}."{int(item[1])}"' if item else None
    return store.query_df(
        "SELECT op_id, ts, actor, kind, run_id, idx, batch_id, undo_of, undone_by, payload, \"before\", \"after\" "
        "FROM memory_ops WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR batch_id = ?) AND (? IS NULL OR "
        "json_extract(\"before\", ?) IS NOT NULL OR json_extract(\"after\", ?) IS NOT NULL) "
        "ORDER BY op_id DESC LIMIT ?", [actor, actor, batch_id, batch_id, path, path, path, int(limit)])


def op_diff(before: str | dict[str, Any] | None, after: str | dict[str, Any] | None) -> pd.DataFrame:
    """``item | field | before | after`` for every field an op changed (created and deleted items in full)."""
    b = json.loads(before) if isinstance(before, str) else (before or {})
    a = json.loads(after) if isinstance(after, str) else (after or {})
    rows = []
    for kind in sorted(set(b) | set(a)):
        for item_id in sorted(set(b.get(kind, {})) | set(a.get(kind, {})), key=int):
            old, new = b.get(kind, {}).get(item_id), a.get(kind, {}).get(item_id)
            for field in sorted(set(old or {}) | set(new or {})):
                if field in HIDDEN or field.endswith("_at"):
                    continue
                x = None if old is None else old.get(field)
                y = None if new is None else new.get(field)
                if old is None or new is None or x != y:
                    rows.append({"item": f"{kind} {item_id}", "field": field,
                                 "before": "(absent)" if old is None else _show(x),
                                 "after": "(deleted)" if new is None else _show(y)})
    return pd.DataFrame(rows, columns=["item", "field", "before", "after"])


def _show(value: Any) -> str:
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value)


def undoable_batches(store: MemoryStore, limit: int = 50) -> pd.DataFrame:
    """Batches with ops left to undo, newest first: when, who, how many ops of which kinds."""
    return store.query_df("""
        SELECT batch_id, min(ts) AS ts, string_agg(DISTINCT actor, ', ') AS actor, count(*) AS ops,
               string_agg(DISTINCT kind, ', ') AS kinds
        FROM memory_ops WHERE batch_id IS NOT NULL AND batch_id NOT LIKE 'undo-%' AND undone_by IS NULL
              AND kind <> 'undo'
        GROUP BY batch_id ORDER BY min(op_id) DESC LIMIT ?""", [int(limit)])


def batch_label(row: dict[str, Any]) -> str:
    return f"{row['batch_id']} · {row['ts']:%Y-%m-%d %H:%M} · {row['actor']} · {row['ops']} op(s): {row['kinds']}"


def points(delta: float | None) -> str | None:
    """A difference of two shares in percentage points (``+41 pp``), not a relative ``+41%``."""
    return None if delta is None else f"{delta * 100:+.0f} pp"
