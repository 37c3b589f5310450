"""Baselines EGuR is compared against, each over the same model, problems, scorer and records.

``cot`` chain of thought, ``sc`` self-consistency, ``dc`` Dynamic Cheatsheet, ``mem0`` Mem0-style
fact memory, ``static`` the best shipped strategy chosen on a warm-up split. ``egur`` itself is
run by :mod:`egur_core.evals.comparison` through the EGuR loop.
"""

from __future__ import annotations

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig
from egur_core.evals.baselines.cot import ChainOfThought
from egur_core.evals.baselines.dc import DynamicCheatsheet
from egur_core.evals.baselines.mem0 import Mem0Style
from egur_core.evals.baselines.sc import SelfConsistency
from egur_core.evals.baselines.static import BestStaticStrategy

BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (ChainOfThought, SelfConsistency, DynamicCheatsheet, Mem0Style, BestStaticStrategy)
}

__all__ = ["BASELINES", "Attempt", "Baseline", "BaselineConfig", "BestStaticStrategy", "ChainOfThought",
           "DynamicCheatsheet", "Mem0Style", "SelfConsistency"]
