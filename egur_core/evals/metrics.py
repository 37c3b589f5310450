"""The metrics every view reports, defined once: accuracy, the per-problem curves, cost per problem.

The dashboard's charts and live view, the HTML report and the CLI summary all read these
functions, so a number means the same thing wherever it is shown. Accuracy counts a problem as
right only when its chosen answer was graded right: an unanswered problem, or one that could not
be graded, is not right.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

ROLLING_WINDOW = 10
"""Problems averaged by the rolling curves: one problem swings between explore and exploit."""

CURVE_COLUMNS = ["run", "method", "seen", "correct", "cost_usd", "exploited", "running_accuracy",
                 "rolling_accuracy", "cumulative_cost", "cost_rolling"]
"""The per-problem curve frame every chart draws from (one row per finished problem and run)."""


def accuracy(correct: Iterable[bool | None]) -> float | None:
    """Share of problems graded right; None when there are none."""
    values = [bool(c) if c is not None and c == c else False for c in correct]  # NaN (pandas' missing) is not right
    return sum(values) / len(values) if values else None


def curve_frame(problems: pd.DataFrame, window: int = ROLLING_WINDOW) -> pd.DataFrame:
    """Add the curves to per-problem rows (``run``, ``method``, ``correct``, ``cost_usd``, ``exploited``, in
    problem order within each run): problems seen, cumulative and rolling accuracy, cumulative and rolling cost."""
    frame = problems.copy()
    if frame.empty:
        return frame.reindex(columns=CURVE_COLUMNS)
    frame["correct"] = frame["correct"].map(lambda c: bool(c) if c is not None and c == c else False)
    frame["exploited"] = frame["exploited"].fillna(False).astype(bool)
    frame["cost_usd"] = frame["cost_usd"].fillna(0.0).astype(float)
    right = frame["correct"].astype(float).groupby(frame["run"], sort=False)
    cost = frame["cost_usd"].groupby(frame["run"], sort=False)
    frame["seen"] = frame.groupby("run", sort=False).cumcount() + 1
    frame["running_accuracy"] = right.transform(lambda s: s.expanding().mean())
    frame["rolling_accuracy"] = right.transform(lambda s: s.rolling(window, 1).mean())
    frame["cumulative_cost"] = cost.cumsum()
    frame["cost_rolling"] = cost.transform(lambda s: s.rolling(window, 1).mean())
    return frame[CURVE_COLUMNS + [c for c in frame.columns if c not in CURVE_COLUMNS]]


def thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most about ``max_points`` rows per run (first and last kept): a chart has only so many pixels."""
    if frame.empty:
        return frame
    n = frame.groupby("run", sort=False)["seen"].transform("max")
    step = np.maximum(1, np.ceil(n / max(max_points, 1))).astype(int)
    keep = (frame["seen"] % step == 0) | (frame["seen"] == 1) | (frame["seen"] == n)
    return frame[keep].reset_index(drop=True)


def phases(frame: pd.DataFrame, parts: int = 3) -> pd.DataFrame:
    """Each run cut into ``parts`` equal spans of problems (first third, middle, last third): accuracy,
    mean cost per problem and the share answered by exploiting memory in each. What a curve's shape
    says, as numbers (and what explains a drop in accuracy while cost falls)."""
    if frame.empty:
        return pd.DataFrame(columns=["run", "method", "phase", "first", "last", "accuracy", "cost_per_problem",
                                     "exploited_share"])
    rows = []
    for (run, method), group in frame.groupby(["run", "method"], sort=False):
        n = len(group)
        for phase, part in enumerate(np.array_split(np.arange(n), min(parts, n))):
            chunk = group.iloc[part]
            rows.append({"run": run, "method": method, "phase": phase, "first": int(chunk["seen"].iloc[0]),
                         "last": int(chunk["seen"].iloc[-1]), "accuracy": float(chunk["correct"].mean()),
                         "cost_per_problem": float(chunk["cost_usd"].mean()),
                         "exploited_share": float(chunk["exploited"].mean())})
    return pd.DataFrame(rows)
