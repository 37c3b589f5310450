"""Plotly figures for the Run and Results pages: pure functions from DataFrames to Figures.

The pages only pass data in and draw what comes out, so every figure is testable without a
browser. Curves take a *long* frame, one row per finished problem and run, with the columns of
:data:`egur_core.evals.metrics.CURVE_COLUMNS` (``results_data.curves`` builds it from the database,
:func:`live_frame` from a running job). When runs of several methods are shown (EGuR against baselines), lines are
coloured by method; otherwise by run.

Every figure says what it measures in its title and axis (accuracy over the last
:data:`ROLLING_WINDOW` problems by default, cumulative on request), marks the problems answered by
exploiting memory alone, and carries a "SIMULATED" mark inside the figure itself when the runs
used the simulated model, so an exported PNG or the HTML report keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from egur_core.app.progress import ProblemRecord
from egur_core.evals.metrics import CURVE_COLUMNS, ROLLING_WINDOW, curve_frame, phases  # noqa: F401  (CURVE_COLUMNS: the frame charts draw)
from egur_core.strategy.roles import METHOD_ROLES, ROLES

ROLE_COLORS = {"guide": "#6366f1", "executor": "#10b981", "consolidator": "#f59e0b", "judge": "#94a3b8"}
PALETTE = ["#4f46e5", "#f97316", "#0ea5e9", "#db2777", "#16a34a", "#a16207", "#7c3aed", "#475569"]
_LAYOUT = dict(margin=dict(l=60, r=20, t=72, b=50), height=350,
               legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, font=dict(size=11)),
               title=dict(y=0.98, yanchor="top", font=dict(size=15)), hovermode="closest")
SIMULATED_MARK = "SIMULATED model"
EXPLOITED = "exploited (cached strategy alone)"
DOLLARS = ".2~g"  # $0.0006, not plotly's SI "600µ"
MAX_MARKS = 60  # exploited marks per run on a curve; a long run shows every k-th
LABELLED = 6  # the scatter names its most used strategies; the rest on hover


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


def series_colours(frame: pd.DataFrame) -> dict[str, str]:
    """Line colour of each series of a curve frame: by method when methods are compared, else by run label
    (the HTML report's table uses the same mapping, so its dots match the lines)."""
    colour_by = _colour_by(frame)
    groups = sorted(frame[colour_by].unique(), key=lambda g: (g != "egur", g))
    if colour_by == "method":
        return {g: method_colour(g) for g in groups}
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}


def _colour_by(frame: pd.DataFrame) -> str:
    """Colour by method when comparing methods (EGuR vs baselines), else tell runs apart."""
    return "method" if "method" in frame and frame["method"].nunique() > 1 else "run"


def _line(frame: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str,
          mark_exploited: bool = False) -> go.Figure:
    """One line per run, coloured by method or run; exploited problems optionally marked on it. Built
    from ``go.Scatter`` directly: plotly express costs ~100 ms per figure, paid three times per render."""
    if frame.empty:
        return empty_figure(title, "No finished problems yet")
    colour_by, colours = _colour_by(frame), series_colours(frame)
    fig = go.Figure()
    ordered = frame.sort_values("method", key=lambda m: m != "egur", kind="stable")  # EGuR first in the legend
    for (run, method), rows in ordered.groupby(["run", "method"], sort=False):
        group = method if colour_by == "method" else run
        dense = len(rows) > MAX_MARKS  # a dot per problem only while dots can be told apart
        fig.add_trace(go.Scatter(
            x=rows[x], y=rows[y], name=group, legendgroup=group, mode="lines" if dense else "lines+markers",
            line=dict(color=colours[group], width=2), marker=dict(size=5), showlegend=group not in _legend_names(fig),
            hovertemplate=f"{run}<br>{x_title}: %{{x}}<br>{y_title}: %{{y}}<extra>{method}</extra>"))
        hits = rows[rows["exploited"].astype(bool)] if mark_exploited and "exploited" in rows else rows.iloc[0:0]
        hits = hits.iloc[:: max(1, math.ceil(len(hits) / MAX_MARKS))]  # a mark per pixel column is noise (and slow)
        if not hits.empty:
            fig.add_trace(go.Scatter(
                x=hits[x], y=hits[y], name=EXPLOITED, legendgroup=EXPLOITED, mode="markers",
                marker=dict(symbol="diamond-open", size=7 if dense else 10, color=colours[group], line=dict(width=2)),
                showlegend=EXPLOITED not in _legend_names(fig),
                hovertemplate=f"{run}<br>problem %{{x}}: exploited memory<extra></extra>"))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text=title, xaxis_title=x_title, yaxis_title=y_title)
    if x == "seen" and not frame.empty:  # whole problems, even when only three are in
        fig.update_xaxes(dtick=max(1, math.ceil(float(frame[x].max()) / 8)), tick0=0)
    return fig


def _legend_names(fig: go.Figure) -> set[str]:
    return {t.name for t in fig.data if t.showlegend is not False}


def accuracy_curve(frame: pd.DataFrame, cumulative: bool = False, simulated: bool = False) -> go.Figure:
    """Accuracy against problems seen: over the last ``ROLLING_WINDOW`` problems (what the loop does
    now), or cumulative (everything so far, slow to show a change); exploited problems marked."""
    y, title, axis = (("running_accuracy", "Accuracy so far (cumulative)", "accuracy, all problems so far")
                      if cumulative else ("rolling_accuracy", f"Accuracy, last {ROLLING_WINDOW} problems (rolling)",
                                          f"accuracy, last {ROLLING_WINDOW} problems"))
    fig = _line(frame, "seen", y, title, "problems seen", axis, mark_exploited=True)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return mark_simulated(fig, simulated)


def cost_curve(frame: pd.DataFrame, simulated: bool = False) -> go.Figure:
    """Cost per problem against problems seen (rolling mean): does experience make it cheaper?"""
    fig = _line(frame, "seen", "cost_rolling", f"Cost per problem, last {ROLLING_WINDOW} problems (rolling)",
                "problems seen", "$ per problem")
    fig.update_yaxes(tickprefix="$", tickformat=DOLLARS, rangemode="tozero")
    return mark_simulated(fig, simulated)


def accuracy_cost_curve(frame: pd.DataFrame, simulated: bool = False) -> go.Figure:
    """Cumulative accuracy against cumulative dollars: the trade-off methods are compared on (linear
    axis from $0, so a method that costs nothing stays on the chart)."""
    fig = _line(frame, "cumulative_cost", "running_accuracy", "Accuracy so far vs dollars spent",
                "cumulative cost $", "accuracy, all problems so far")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(tickprefix="$", tickformat=DOLLARS, rangemode="tozero", type="linear")
    return mark_simulated(fig, simulated)


def mark_simulated(fig: go.Figure, simulated: bool) -> go.Figure:
    """Stamp the figure itself (so a PNG export or a report keeps it) when its runs used the simulated model:
    bottom right, level with the x-axis title, where no title, legend or data sits."""
    if simulated:
        fig.add_annotation(text=SIMULATED_MARK, xref="paper", yref="paper", x=1, y=0, xanchor="right",
                           yanchor="top", yshift=-30, showarrow=False, bgcolor="#fff3cd", bordercolor="#d97706",
                           borderwidth=1, borderpad=2, font=dict(size=10, color="#92400e"))
    return fig


def trade_off_note(frame: pd.DataFrame) -> str | None:
    """One line where a run's accuracy drops while its cost falls (first third vs last third), saying why.

    Cheaper-and-worse is what exploiting memory trades: a cached strategy alone costs a fraction of
    asking the Guide for k candidates, and it is sometimes wrong where the candidates would not be."""
    parts = phases(frame)
    notes = []
    for (run, method), rows in parts.groupby(["run", "method"], sort=False):
        if len(rows) < 3 or method != "egur":
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        if last["accuracy"] < first["accuracy"] - 0.05 and last["cost_per_problem"] < 0.8 * first["cost_per_problem"]:
            cheaper = 1 - last["cost_per_problem"] / first["cost_per_problem"] if first["cost_per_problem"] else 0.0
            notes.append(
                f"{run}: accuracy fell from {first['accuracy']:.0%} (problems {first['first']}–{first['last']}) to "
                f"{last['accuracy']:.0%} (problems {last['first']}–{last['last']}) while cost per problem fell "
                f"{cheaper:.0%}: {last['exploited_share']:.0%} of the later problems ran a cached strategy alone "
                "(no Guide, no Consolidator). That is the exploit trade-off: much cheaper, sometimes wrong where "
                "several candidates would have caught the mistake (tune it in the Exploit rule).")
    return "\n\n".join(notes) or None


def cost_by_role(summary: pd.DataFrame, simulated: bool = False) -> go.Figure:
    """Mean cost per problem of each run, stacked by role (Guide, executor, Consolidator).

    ``summary`` has one row per run with ``run``, ``problems`` and ``cost_<role>`` columns. Per problem
    rather than total, so runs of different lengths compare fairly. Horizontal bars: run labels are
    long, and on a horizontal axis they collided with the legend.
    """
    title = "Cost per problem by role"
    if summary.empty or not (summary["problems"] > 0).any():
        return empty_figure(title, "No finished problems yet")
    rows = summary[summary["problems"] > 0]
    shown = [role for role in ROLES if role in METHOD_ROLES or rows[f"cost_{role}"].sum() > 0]  # a judge if one graded
    fig = go.Figure([go.Bar(name=role, y=rows["run"], x=rows[f"cost_{role}"] / rows["problems"], orientation="h",
                            marker_color=ROLE_COLORS[role],
                            hovertemplate="%{y}<br>" + role + ": $%{x:.5f}<extra></extra>") for role in shown])
    fig.update_layout(**_LAYOUT)
    fig.update_layout(barmode="stack", title_text=title, xaxis_tickprefix="$", xaxis_tickformat=DOLLARS,
                      xaxis_title="$ per problem",
                      legend_traceorder="normal", height=max(260, 140 + 34 * len(rows)))
    fig.update_yaxes(automargin=True, autorange="reversed")
    return mark_simulated(fig, simulated)


def strategy_scatter(versions: pd.DataFrame, simulated: bool = False) -> go.Figure:
    """Accuracy against mean cost per version in a run, sized by uses, coloured by the problem where it
    first appeared: where the library converged (high, left, big) and how late it got there."""
    title = "Accuracy vs cost per strategy"
    ran = versions[versions["in_run"] & versions["accuracy"].notna()] if not versions.empty else versions
    if ran.empty:
        return empty_figure(title, "No strategy ran yet")
    size = 10 + 30 * (ran["uses"] / ran["uses"].max()) ** 0.5
    top = set(ran.sort_values("uses", ascending=False)["hash"].head(LABELLED))
    fig = go.Figure(go.Scatter(
        x=ran["mean_cost"], y=ran["accuracy"], mode="markers+text", textposition="top center", cliponaxis=False,
        text=[n if h in top else "" for n, h in zip(ran["name"], ran["hash"])], textfont=dict(size=10),
        marker=dict(size=size, color=ran["first_problem"], colorscale="Viridis", showscale=True,
                    colorbar=dict(title="first<br>problem", thickness=12), line=dict(width=1, color="#334155")),
        customdata=ran[["uses", "chosen", "hash", "name"]],
        hovertemplate="%{customdata[3]} (%{customdata[2]})<br>accuracy %{y:.0%} · $%{x:.5f} per execution<br>"
                      "%{customdata[0]} uses, chosen %{customdata[1]}×<extra></extra>"))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text=title, xaxis_title="mean $ per execution (size: uses; colour: first problem)",
                      yaxis_title="accuracy of its executions",
                      showlegend=False, height=420)
    fig.update_yaxes(range=[-0.05, 1.1], tickformat=".0%")
    fig.update_xaxes(tickprefix="$", tickformat=DOLLARS, rangemode="tozero")
    return mark_simulated(fig, simulated)


def strategy_timeline(timeline: pd.DataFrame, top: int = 12, simulated: bool = False) -> go.Figure:
    """Which strategy answered each problem: one row per strategy (the ``top`` most chosen; the rest as
    "other"), filled when right, hollow when wrong, diamonds when exploited from memory."""
    title = "Which strategy answered each problem"
    if timeline.empty:
        return empty_figure(title, "No finished problems yet")
    names = timeline["name"].fillna("(no answer)")
    keep = set(names.value_counts().head(top).index)
    rows = timeline.assign(row=[n if n in keep else "other" for n in names])
    order = list(dict.fromkeys(rows.sort_values("problem")["row"]))
    fig = go.Figure()
    for exploited in (False, True):
        for correct in (True, False):
            part = rows[(rows["exploited"] == exploited) & (rows["correct"] == correct)]
            if part.empty:
                continue
            fig.add_trace(go.Scatter(
                x=part["problem"], y=part["row"], mode="markers",
                name=f"{'exploited' if exploited else 'explored'}, {'right' if correct else 'wrong'}",
                marker=dict(symbol=("diamond" if exploited else "circle") + ("" if correct else "-open"), size=9,
                            color="#16a34a" if correct else "#dc2626", line=dict(width=1.5)),
                hovertemplate="problem %{x}: %{y}<extra>%{fullData.name}</extra>"))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text=title, xaxis_title="problem", height=max(300, 130 + 26 * len(order)))
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], automargin=True)
    return mark_simulated(fig, simulated)


def empty_figure(title: str, message: str) -> go.Figure:
    """A titled, axis-free placeholder so an empty chart says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#64748b"))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text=title, xaxis_visible=False, yaxis_visible=False)
    return fig
