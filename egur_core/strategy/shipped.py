"""The example strategies EGuR ships (``data/strategies/``): a new memory's seed, the Guide's compact
``{"use": <name>}`` targets, the fallback, and the baselines' fixed strategies.

They name models only by tier or role, so they run on any endpoint. The data folder is the package's
``egur_core/data`` (a link to the top-level ``data/`` in a checkout, a copy in a wheel);
``EGUR_DATA_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from egur_core.strategy.model import Strategy

DATA_DIR_ENV = "EGUR_DATA_DIR"
FALLBACK = "chain_of_thought"
"""The strategy a problem runs when the Guide cannot propose a valid one."""


def data_dir() -> Path:
    """The shipped data folder (read on every call so tests and deployments can point elsewhere)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(str(files("egur_core") / "data"))


def shipped_strategies() -> dict[str, Strategy]:
    """Every shipped strategy by its file name without ``.json`` (``chain_of_thought``, ``sat_solver``...)."""
    return dict(_load(str(data_dir() / "strategies")))


@lru_cache(maxsize=4)
def _load(folder: str) -> tuple[tuple[str, Strategy], ...]:
    return tuple((path.stem, Strategy.model_validate_json(path.read_text(encoding="utf-8")))
                 for path in sorted(Path(folder).glob("*.json")))


def shipped_strategy(key: str) -> Strategy | None:
    """A shipped strategy by file name (``chain_of_thought``) or by its ``name`` (``chain-of-thought``)."""
    strategies = shipped_strategies()
    return strategies.get(key) or next((s for s in strategies.values() if s.name == key), None)
