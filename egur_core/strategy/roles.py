"""The roles that make model calls, the one list every layer uses.

Cost is split by role everywhere (the store's columns, the reports, the charts): the Guide writes
strategies, the executor runs them, the Consolidator edits memory, and the judge grades answers of
datasets scored by an LLM with a rubric (counted apart, so grading never inflates a method's cost).
Strategies name a model by a role (``"executor"``) or a tier (``"cheap"``, ``"strong"``), which the
settings map to configured models, so shipped and remembered strategies run on any endpoint.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["guide", "executor", "consolidator", "judge"]
ROLES: tuple[Role, ...] = ("guide", "executor", "consolidator", "judge")
METHOD_ROLES: tuple[Role, ...] = ("guide", "executor", "consolidator")
"""The roles whose calls are a method's cost; the judge only grades (evaluation), so it is counted apart."""
ROLE_FALLBACKS: dict[Role, Role] = {"judge": "consolidator"}
"""Roles a settings file written before they existed may leave out, and the role whose model they then use."""

Tier = Literal["cheap", "strong"]
TIERS: tuple[Tier, ...] = ("cheap", "strong")
"""Model tiers a strategy may name so that it runs on any endpoint: the settings map each to a model."""
