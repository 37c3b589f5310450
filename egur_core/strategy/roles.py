"""The roles that make model calls, the one list every layer uses.

Cost is split by role everywhere (the store's columns, the reports, the charts): the Guide writes
strategies, the executor runs them, the Consolidator edits memory. Strategies name a model by a
role (``"executor"``) or a tier (``"cheap"``, ``"strong"``), which the settings map to configured
models, so shipped and remembered strategies run on any endpoint.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["guide", "executor", "consolidator"]
ROLES: tuple[Role, ...] = ("guide", "executor", "consolidator")

Tier = Literal["cheap", "strong"]
TIERS: tuple[Tier, ...] = ("cheap", "strong")
"""Model tiers a strategy may name so that it runs on any endpoint: the settings map each to a model."""
