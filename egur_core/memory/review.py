"""The review queue (Consolidator proposals a person approves), one problem's ops applied once, bulk pruning.

All end in ordinary logged ops, so everything they do shows in the audit log and can be undone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from egur_core.memory.curation import CurationMixin, parse_op, touched
from egur_core.memory.ops import AddEntry, DeleteEntry, DeleteNote, MemoryOp, RateNote
from egur_core.memory.records import MemoryOpError, ProblemOps, Proposal, PruneRule, dumps, utcnow
from egur_core.strategy.validation import validate_strategy

DUPLICATE = "duplicate: "
"""How a proposal set aside as a duplicate of an entry cached meanwhile begins its note."""


class ReviewMixin(CurationMixin):
    # -- review queue ---------------------------------------------------------------------------
    def propose(self, ops: Sequence[MemoryOp | dict], run_id: str | None = None, idx: int | None = None,
                note: str = "") -> list[int]:
        """Queue ops for a person instead of applying them (``note`` says why); return the proposal ids."""
        parsed = [parse_op(op) for op in ops]
        with self._tx():
            return [self._insert_proposal(op, run_id, idx, "pending", note) for op in parsed]

    def _insert_proposal(self, op: MemoryOp, run_id: str | None, idx: int | None, status: str, note: str) -> int:
        """One proposal row; one decided by a rule as it is made (not ``pending``) is kept so the review history
        says what was not applied, and why."""
        pid, now = self._next_id("proposals", "proposals", "proposal_id"), utcnow()
        self._db.execute(
            "INSERT INTO proposals (proposal_id, created_at, run_id, idx, op, status, note, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [pid, now, run_id, idx, dumps(op.model_dump(mode="json")), status, note,
             None if status == "pending" else now])
        return pid

    def last_op_id(self) -> int:
        """The newest audit-log op (0 when there is none): a watermark for what changes after it."""
        return int(self._scalar("SELECT coalesce(max(op_id), 0) FROM memory_ops"))

    def changed_since(self, op_id: int, ops: Sequence[MemoryOp]) -> list[tuple[MemoryOp, str]]:
        """Those of ``ops`` that touch an entry or note some op after ``op_id`` changed, each with that op (not ratings,
        which only add to a note's counts)."""
        later: dict[tuple[str, int], dict] = {}
        for row in self._rows("SELECT op_id, run_id, idx, \"before\", \"after\" FROM memory_ops WHERE op_id > ? "
                              "ORDER BY op_id", [op_id]):
            for snap in (json.loads(row["before"]), json.loads(row["after"])):
                for kind, items in snap.items():
                    for item_id in items:
                        later.setdefault((kind, int(item_id)), row)
        conflicts = []
        for op in ops:
            if isinstance(op, RateNote):  # a rating adds to counts: two in either order give the same note
                continue
            hit = next((later[ref] for ref in touched(op) if ref in later), None)
            if hit is not None:
                where = f"problem {hit['idx'] + 1}" if hit["idx"] is not None else "a person"
                conflicts.append((op, f"op {hit['op_id']} ({where}) changed it after this problem started"))
        return conflicts

    def duplicates_added_since(self, op_id: int, ops: Sequence[MemoryOp]) -> list[tuple[MemoryOp, str]]:
        """Those of ``ops`` that add an entry holding a strategy that an entry added after ``op_id`` already holds
        for the same benchmark, each with a reason naming that entry: problems in flight at once would
        otherwise each cache the same strategy, and its uses would be split over the copies."""
        added: dict[tuple[str, str], tuple[int, Any]] = {}
        for row in self._rows("SELECT run_id, idx, \"after\" FROM memory_ops WHERE op_id > ? AND kind = 'add_entry' "
                              "AND undo_of IS NULL ORDER BY op_id", [op_id]):
            for entry_id, entry in json.loads(row["after"]).get("entry", {}).items():
                added.setdefault((entry["strategy_hash"], entry["benchmark"]), (int(entry_id), row["idx"]))
        duplicates = []
        for op in ops:
            if not isinstance(op, AddEntry):
                continue
            strategy, _ = validate_strategy(op.strategy)
            hit = added.get((strategy.hash, op.benchmark)) if strategy is not None else None
            if hit is not None and self._scalar("SELECT count(*) FROM library WHERE entry_id = ?", [hit[0]]):
                where = f"problem {hit[1] + 1}" if hit[1] is not None else "a person"
                duplicates.append((op, f"entry {hit[0]} ({where}) cached the same strategy after this problem started"))
        return duplicates

    def apply_problem_ops(self, ops: Sequence[MemoryOp | dict], run_id: str, idx: int, *, review: bool = False,
                          actor: str = "consolidator", read_at: int | None = None) -> ProblemOps:
        """Apply (or, with ``review``, queue) one problem's ops exactly once, in one transaction.

        A run killed after this commit but before the problem was finished redoes the problem on resume;
        its ops are then found already logged for ``(run_id, idx)`` and nothing is applied twice. An op
        the store refuses (a pinned item, an id gone meanwhile, an invalid strategy) is dropped with its
        reason; the others still apply. ``read_at``: the newest op when the problem read the memory; an op on
        an item changed after it (problems run in parallel) is queued for review instead: first writer wins; an
        added entry that only repeats one added after it is recorded as a rejected proposal, not added."""
        parsed = [parse_op(op) for op in ops]
        outcome = ProblemOps()
        with self._tx():
            done, newest_op = self._problem_ops_state(run_id, idx, actor)
            if done:
                outcome.already_done = True
                return outcome
            if read_at is not None and newest_op <= read_at:
                read_at = None  # nothing changed since the problem read the memory (always so one at a time)
            for op, why in self.changed_since(read_at, parsed) if read_at is not None else []:
                parsed.remove(op)
                outcome.proposed += self.propose([op], run_id, idx, note=f"conflict: {why}")
                outcome.dropped.append(f"{op.op}: conflict, queued for review: {why}")
            for op, why in self.duplicates_added_since(read_at, parsed) if read_at is not None else []:
                parsed.remove(op)
                self._insert_proposal(op, run_id, idx, "rejected", DUPLICATE + why)
                outcome.dropped.append(f"{op.op}: duplicate, not added: {why}")
            if review:
                outcome.proposed += self.propose(parsed, run_id, idx)
                return outcome
            batch_id = f"batch-{uuid.uuid4().hex[:12]}" if len(parsed) > 1 else None
            for op in parsed:
                try:  # a refusal is raised before the op writes anything, so the transaction stays whole
                    outcome.applied.append(self._apply_one(op, actor, run_id, idx, batch_id))
                except MemoryOpError as exc:
                    outcome.dropped.append(f"{op.op}: {exc}")
            self._enforce_caps(run_id, idx)
        return outcome

    def _problem_ops_state(self, run_id: str, idx: int, actor: str) -> tuple[bool, int]:
        """Whether this problem's ops were applied or queued before (a resumed run redoing it), and the newest op
        id: one statement, as it is asked for every problem."""
        done, newest = self._db.execute(
            "SELECT exists(SELECT 1 FROM proposals WHERE run_id = $run AND idx = $idx) "
            "OR exists(SELECT 1 FROM memory_ops WHERE actor = $actor AND run_id = $run AND idx = $idx "
            "AND undo_of IS NULL), (SELECT coalesce(max(op_id), 0) FROM memory_ops)",
            {"run": run_id, "idx": idx, "actor": actor}).fetchone()
        return bool(done), int(newest)

    def pending_proposals(self) -> list[Proposal]:
        return self.proposals(status="pending")

    def set_aside_duplicates(self, limit: int = 200) -> list[Proposal]:
        """Entries problems in flight at once would have cached twice, newest first: a rule rejected them."""
        rows = self._rows("SELECT * FROM proposals WHERE status = 'rejected' AND starts_with(note, ?) "
                          "ORDER BY proposal_id DESC LIMIT ?", [DUPLICATE, limit])
        return [_proposal(r) for r in rows]

    def proposals(self, status: str | None = None) -> list[Proposal]:
        rows = self._rows("SELECT * FROM proposals WHERE ? IS NULL OR status = ? ORDER BY proposal_id",
                          [status, status])
        return [_proposal(r) for r in rows]

    def _pending(self, proposal_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM proposals WHERE proposal_id = ?", [proposal_id])
        if row is None:
            raise MemoryOpError(f"no proposal {proposal_id}")
        if row["status"] != "pending":
            raise MemoryOpError(f"proposal {proposal_id} is already {row['status']}")
        return row

    def approve(self, proposal_id: int, edited_op: MemoryOp | dict | None = None) -> int:
        """Apply a proposal (or a person's edited version of it) as actor "person"; return the op id."""
        with self._tx():
            row = self._pending(proposal_id)
            op = parse_op(edited_op if edited_op is not None else json.loads(row["op"]))
            op_id = self.apply(op, "person", row["run_id"], row["idx"])
            self._db.execute(
                "UPDATE proposals SET status = 'approved', decided_at = ?, applied_op_id = ?, note = ? "
                "WHERE proposal_id = ?", [utcnow(), op_id, "edited" if edited_op is not None else "", proposal_id])
        return op_id

    def reject(self, proposal_id: int, note: str = "") -> None:
        with self._tx():
            self._pending(proposal_id)
            self._db.execute("UPDATE proposals SET status = 'rejected', decided_at = ?, note = ? "
                             "WHERE proposal_id = ?", [utcnow(), note, proposal_id])

    # -- prune ----------------------------------------------------------------------------------
    def prune_preview(self, rule: PruneRule) -> pd.DataFrame:
        """Exactly the rows ``prune(rule)`` would delete (pinned never included)."""
        sql, params = _prune_query(rule)
        return self._df(sql, params)

    def prune(self, rule: PruneRule, actor: str = "person") -> list[int]:
        """Delete what ``prune_preview`` shows, as one batch of logged deletes (``undo_batch`` reverts)."""
        with self._tx():
            ids = self.prune_preview(rule).iloc[:, 0].tolist()
            ops = [DeleteEntry(entry_id=int(i), reason="prune") if rule.kind == "entries"
                   else DeleteNote(note_id=int(i), reason="prune") for i in ids]
            batch_id = f"prune-{uuid.uuid4().hex[:12]}"
            return [self._apply_one(op, actor, None, None, batch_id) for op in ops]


def _prune_query(rule: PruneRule) -> tuple[str, list[Any]]:
    """SQL selecting the rows matched by every criterion of ``rule`` (AND); never pinned ones."""
    if rule.max_success_rate is None and rule.min_uses is None and rule.older_than_days is None \
            and not rule.never_retrieved:
        raise MemoryOpError("a prune rule needs at least one criterion (it would delete everything unpinned)")
    if rule.kind == "entries":
        cols = "entry_id, signature, benchmark, strategy_hash, uses, successes, retrievals, created_at"
        table, uses, rate, key = "library", "uses", "successes / nullif(uses, 0)", "entry_id"
    else:
        cols = "note_id, text, benchmark, helpful, harmful, retrievals, created_at"
        table, uses, rate, key = "notes", "(helpful + harmful)", "helpful / nullif(helpful + harmful, 0)", "note_id"
    where, params = ["NOT pinned"], []
    if rule.max_success_rate is not None:
        where.append(f"{rate} <= ?")
        params.append(rule.max_success_rate)
    if rule.min_uses is not None:
        where.append(f"{uses} >= ?")
        params.append(rule.min_uses)
    if rule.older_than_days is not None:
        where.append("created_at < ?")
        params.append(utcnow() - pd.Timedelta(days=rule.older_than_days).to_pytimedelta())
    if rule.never_retrieved:
        where.append("retrievals = 0")
    return f"SELECT {cols} FROM {table} WHERE {' AND '.join(where)} ORDER BY {key}", params


def _proposal(row: dict[str, Any]) -> Proposal:
    return Proposal(**{**row, "op": json.loads(row["op"]), "note": row["note"] or ""})
