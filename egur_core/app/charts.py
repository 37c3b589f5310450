"""Plotly figures for the Run and Results pages: pure functions from DataFrames to Figures.

The pages only pass data in and draw what comes out, so every figure is testable without a
browser. Curves take a *long* frame, one row per finished problem and run, with the columns of
:data:`egur_core.evals.metrics.CURVE_COLUMNS` (``results_data.curves`` builds it from the database,
:func:`live_frame` from a running job). When runs of several methods are shown (EGuR against baselines), lines are
coloured by method; otherwise by run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from egur_core.app.progress import ProblemRecord
from egur_core.evals.metrics import CURVE_COLUMNS, ROLLING_WINDOW, curve_frame  # noqa: F401  (CURVE_COLUMNS: the frame charts draw)
from egur_core.strategy.roles import ROLES

ROLE_COLORS = {"guide": "#6366f1", "executor": "#10b981", "consolidator": "#f59e0b", "judge": "#94a3b8"}
PALETTE = ["#4f46e5", "#f97316", "#0ea5e9", "#db2777", "#16a34a", "#a16207", "#7c3aed", "#475569"]
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=320, legend=dict(orientation="h", y=-0.25),
               hovermode="closest")


def live_frame(records: Sequence[ProblemRecord], run: str = "this run", method: str = "egur") -> pd.DataFrame:
    """A running job's finished problems in the curve format."""
    ordered = sorted(records, key=lambda r: r.idx)
    return curve_frame(pd.DataFrame({
        "run": run, "method": method, "correct": [r.correct for r in ordered],
        "cost_usd": [r.cost_usd for r in ordered], "exploited": [r.exploited for r in ordered]}))


METHODS_IN_ORDER = ("egur", "cot", "sc", "dc", "mem0", "static")


def method_colour(method: str) -> str:
    """A method's colour wherever methods are compared (charts, the report's table): EGuR first."""
    order = list(METHODS_IN_ORDER) + [method]
    return PALETTE[order.index(method) % len(PALETTE)]


def _colour_by(frame: pd.DataFrame) -> str:
    """Colour by method when comparing methods (EGuR vs baselines), else tell runs apart."""
    return "method" if "method" in frame and frame["method"].nunique() > 1 else "run"


def _line(frame: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str) -> go.Figure:
    """One line per run, coloured by method or run. Built from ``go.Scatter`` directly: plotly
    express costs ~100 ms per figure, which the Results page pays three times per render."""
    if frame.empty:
        return empty_figure(title, "No finished problems yet")
    colour_by = _colour_by(frame)
    groups = sorted(frame[colour_by].unique(), key=lambda g: (g != "egur", g))
    colours = ({g: method_colour(g) for g in groups} if colour_by == "method"
               else {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)})
    fig = go.Figure()
    ordered = frame.sort_values("method", key=lambda m: m != "egur", kind="stable")  # EGuR first in the legend
    for (run, method), rows in ordered.groupby(["run", "method"], sort=False):
        group = method if colour_by == "method" else run
        fig.add_trace(go.Scatter(
            x=rows[x], y=rows[y], name=group, legendgroup=group, mode="lines+markers" if len(rows) <= 200 else "lines",
            line=dict(color=colours[group], width=2), marker=dict(size=6), showlegend=group not in _legend_names(fig),
            hovertemplate=f"{run}<br>{x_title}: %{{x}}<br>{y_title}: %{{y}}<extra>{method}</extra>"))
    fig.update_layout(**_LAYOUT, title=title, xaxis_title=x_title, yaxis_title=y_title)
    if x == "seen" and not frame.empty:  # whole problems, even when only three are in
        fig.update_xaxes(dtick=max(1, math.ceil(float(frame[x].max()) / 8)), tick0=0)
    return fig


def _legend_names(fig: go.Figure) -> set[str]:
    return {t.name for t in fig.data if t.showlegend is not False}


def accuracy_curve(frame: pd.DataFrame) -> go.Figure:
    """Running accuracy against problems seen: does the loop learn as it goes?"""
    fig = _line(frame, "seen", "running_accuracy", "Accuracy vs problems seen", "problems seen", "accuracy so far")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return fig


def cost_curve(frame: pd.DataFrame) -> go.Figure:
    """Cost per problem against problems seen (rolling mean): does experience make it cheaper?"""
    fig = _line(frame, "seen", "cost_rolling", "Cost per problem vs problems seen", "problems seen",
                f"$ per problem (mean of last {ROLLING_WINDOW})")
    fig.update_yaxes(tickprefix="$", rangemode="tozero")
    return fig


def accuracy_cost_curve(frame: pd.DataFrame) -> go.Figure:
    """Running accuracy against cumulative dollars: the trade-off baselines are compared on."""
    fig = _line(frame, "cumulative_cost", "running_accuracy", "Accuracy vs cumulative cost", "cumulative cost $",
                "accuracy so far")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(tickprefix="$")
    return fig


def cost_by_role(summary: pd.DataFrame) -> go.Figure:
    """Mean cost per problem of each run, stacked by role (Guide, executor, Consolidator).

    ``summary`` has one row per run with ``run``, ``problems`` and ``cost_<role>`` columns.
    Per problem rather than total, so runs of different lengths compare fairly.
    """
    title = "Cost per problem by role"
    if summary.empty or not (summary["problems"] > 0).any():
        return empty_figure(title, "No finished problems yet")
    rows = summary[summary["problems"] > 0]
    fig = go.Figure([go.Bar(name=role, x=rows["run"], y=rows[f"cost_{role}"] / rows["problems"],
                            marker_color=ROLE_COLORS[role],
                            hovertemplate="%{x}<br>" + role + ": $%{y:.5f}<extra></extra>") for role in ROLES])
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, barmode="stack", title=title, yaxis_tickprefix="$",
                      yaxis_title="$ per problem", legend_traceorder="normal")
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A titled, axis-free placeholder so an empty chart says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#64748b"))
    fig.update_layout(**_LAYOUT, title=title, xaxis_visible=False, yaxis_visible=False)
    return fig
