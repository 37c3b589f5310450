"""The roles that make model calls, the one list every layer uses.

Cost is split by role everywhere (the store's columns, the reports, the charts): the Guide writes
strategies, the executor runs them, the Consolidator edits memory. Strategies name a model by a
role (``"executor"``) or by an alias the settings define, so the names live with the language.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["guide", "executor", "consolidator"]
ROLES: tuple[Role, ...] = ("guide", "executor", "consolidator")
