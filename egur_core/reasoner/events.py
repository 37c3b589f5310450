"""Events the loop emits while it runs, for the dashboard's live feed and the CLI's progress bar.

Kinds, in order for one problem: ``problem_started``, ``candidates_proposed``,
``execution_finished`` (one per candidate), ``answer_chosen``, ``memory_updated`` (unless the
problem was exploited), ``problem_finished``; around a run: ``run_started``, ``run_finished``.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field


class LoopEvent(BaseModel):
    kind: str
    run_id: str
    idx: int | None = None
    ts: float = Field(default_factory=time.time)
    payload: dict[str, Any] = Field(default_factory=dict)
