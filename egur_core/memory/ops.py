"""Memory operations: the only way the library and the notes change.

The Consolidator, a person in the dashboard, the CLI and an import all express changes as these
delta ops (never a full rewrite). The store applies each in a transaction and writes it to the
``memory_ops`` audit log with before/after, which is what undo and the review queue read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Actor = Literal["consolidator", "person", "import", "loop", "seed"]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=1000, description="why, in one sentence")


class AddEntry(_Op):
    """Cache a strategy for problems that look like ``signature``."""

    op: Literal["add_entry"] = "add_entry"
    signature: str = Field(min_length=1, max_length=4000, description="what problems this entry is for")
    strategy: dict[str, Any] = Field(description="a strategy JSON object")
    benchmark: str = ""
    example: str = Field("", max_length=20_000, description="a problem it solved; set by the loop, embedded "
                         "with the signature so retrieval by problem text finds the entry")


class UpdateEntry(_Op):
    op: Literal["update_entry"] = "update_entry"
    entry_id: int
    signature: str | None = None
    strategy: dict[str, Any] | None = None
    pinned: bool | None = None
    banned: bool | None = None


class MergeEntries(_Op):
    """Keep ``keep_id``; fold the stats of ``drop_ids`` into it and delete them."""

    op: Literal["merge_entries"] = "merge_entries"
    keep_id: int
    drop_ids: list[int] = Field(min_length=1)
    signature: str | None = None


class DeleteEntry(_Op):
    op: Literal["delete_entry"] = "delete_entry"
    entry_id: int


class AddNote(_Op):
    op: Literal["add_note"] = "add_note"
    text: str = Field(min_length=1, max_length=2000)
    benchmark: str = ""


class UpdateNote(_Op):
    op: Literal["update_note"] = "update_note"
    note_id: int
    text: str | None = Field(None, min_length=1, max_length=2000)
    pinned: bool | None = None
    banned: bool | None = None


class MergeNotes(_Op):
    op: Literal["merge_notes"] = "merge_notes"
    keep_id: int
    drop_ids: list[int] = Field(min_length=1)
    text: str | None = Field(None, min_length=1, max_length=2000)


class DeleteNote(_Op):
    op: Literal["delete_note"] = "delete_note"
    note_id: int


class RateNote(_Op):
    """Count a note as helpful or harmful for the problem just seen."""

    op: Literal["rate_note"] = "rate_note"
    note_id: int
    helpful: int = Field(0, ge=0, le=10)
    harmful: int = Field(0, ge=0, le=10)


MemoryOp = Annotated[
    AddEntry | UpdateEntry | MergeEntries | DeleteEntry | AddNote | UpdateNote | MergeNotes | DeleteNote | RateNote,
    Field(discriminator="op"),
]

class OpList(BaseModel):
    """Wrapper so a list of ops can be validated (and schema'd) in one go."""

    ops: list[MemoryOp] = Field(default_factory=list)
