"""What the Run page shows for a run id: who runs it, whether it can be resumed, its settings.

One decision, made here rather than in the page so it can be tested without a browser:
a run this server is running is shown live from its job; a run another process runs (the CLI,
another dashboard) is shown live from the database, read-only; a run nobody runs any more is shown
from the database with Resume unless it finished. A run left "running" by a dead process is marked
interrupted on the way (:func:`egur_core.app.ownership.mark_if_interrupted`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from egur_core.app.ownership import Liveness, Owner, RunLeases, mark_if_interrupted
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import LoopConfig

FORM_KEYS = ("benchmark", "n", "k", "seed", "parallel", "ordered", "exploit", "min_similarity", "min_uses",
             "min_success_rate", "review", "label_free")
"""The Run form's widget keys, filled from the run on view (``form_values``)."""


@dataclass(frozen=True)
class RunOnView:
    run: dict[str, Any]
    state: Liveness
    owner: Owner | None
    config: LoopConfig | None

    @property
    def watched(self) -> bool:
        """Someone else runs it (or it is just starting there): show it live, offer nothing."""
        return self.state in ("elsewhere", "starting")

    @property
    def resumable(self) -> bool:
        return self.config is not None and self.run["status"] != "finished" and self.state in ("ended", "interrupted")

    @property
    def simulated(self) -> bool:
        return bool(self.run.get("simulated"))


def run_on_view(store: MemoryStore, db_path: str | Path, run_id: str, leases: RunLeases | None = None) -> RunOnView:
    """The run row (``KeyError`` if unknown), its liveness and owner, and its loop settings."""
    run = store.get_run(run_id)
    state, owner, run = mark_if_interrupted(store, db_path, run, leases)
    return RunOnView(run, state, owner, loop_config(run))


def settled(view: RunOnView | None, reread: Callable[[], RunOnView]) -> RunOnView | None:
    """The view to draw of a run whose job in this server is over. A view read while that job still ran says
    "here" (and the status it had then, often "running"); drawn as is, a run stopped at once would show as
    running for good, with nothing polling it, so it is read again."""
    return reread() if view is not None and view.state == "here" else view


def loop_config(run: dict[str, Any]) -> LoopConfig | None:
    """The EGuR settings a run was started with (None for baselines and for rows without them)."""
    raw = (run.get("config") or {}).get("loop")
    if run.get("method", "egur") != "egur" or not raw:
        return None
    try:
        return LoopConfig.model_validate(raw)
    except ValidationError:
        return None


def form_values(config: LoopConfig) -> dict[str, Any]:
    """The Run form's widget values for these settings (keys: :data:`FORM_KEYS`)."""
    rule = config.exploit
    return {"benchmark": config.benchmark, "n": config.n, "k": config.k, "seed": config.seed,
            "parallel": config.parallel, "ordered": config.ordered, "exploit": rule.enabled,
            "min_similarity": rule.min_similarity, "min_uses": rule.min_uses,
            "min_success_rate": rule.min_success_rate, "review": config.review, "label_free": config.label_free}
