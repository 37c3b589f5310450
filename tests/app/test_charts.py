"""Figures are pure functions of their frames: check what a reader would see in them."""

from __future__ import annotations

import pandas as pd
import pytest

from egur_core.app import charts
from egur_core.app.progress import ProblemRecord


def records(correct: list[bool], costs: list[float]) -> list[ProblemRecord]:
    return [ProblemRecord(idx=i, correct=c, cost_usd=x, exploited=i > 1)
            for i, (c, x) in enumerate(zip(correct, costs))]


def test_live_frame_computes_running_accuracy_and_cost_in_problem_order():
    frame = charts.live_frame(list(reversed(records([True, False, True, True], [4.0, 2.0, 0.0, 0.0]))))
    assert frame["seen"].tolist() == [1, 2, 3, 4]
    assert frame["running_accuracy"].tolist() == pytest.approx([1, 0.5, 2 / 3, 0.75])
    assert frame["cumulative_cost"].tolist() == [4, 6, 6, 6]
    assert frame["cost_rolling"].tolist() == pytest.approx([4, 3, 2, 1.5])
    assert set(charts.CURVE_COLUMNS) <= set(frame.columns)


def curve_frame(methods: dict[str, str]) -> pd.DataFrame:
    rows = []
    for run, method in methods.items():
        for seen in range(1, 4):
            rows.append({"run": run, "method": method, "seen": seen, "correct": True, "cost_usd": 0.1,
                         "running_accuracy": seen / 3, "cumulative_cost": 0.1 * seen, "cost_rolling": 0.1,
                         "exploited": False})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("build", [charts.accuracy_curve, charts.cost_curve, charts.accuracy_cost_curve])
def test_one_line_per_run_and_a_titled_placeholder_when_empty(build):
    fig = build(curve_frame({"run A": "egur", "run B": "egur"}))
    assert sorted(t.name for t in fig.data) == ["run A", "run B"]
    assert fig.layout.title.text
    empty = build(curve_frame({}).reindex(columns=charts.CURVE_COLUMNS))
    assert not empty.data and "No finished problems" in empty.layout.annotations[0].text


def test_runs_of_several_methods_are_coloured_by_method():
    fig = charts.accuracy_curve(curve_frame({"egur 1": "egur", "egur 2": "egur", "cot": "cot"}))
    assert {t.name for t in fig.data} == {"egur", "cot"}
    assert len(fig.data) == 3  # still one line per run
    colours = {t.name: t.line.color for t in fig.data}
    assert colours["egur"] != colours["cot"]


def test_accuracy_axes_are_percentages():
    fig = charts.accuracy_curve(curve_frame({"a": "egur"}))
    assert fig.layout.yaxis.tickformat == ".0%" and tuple(fig.layout.yaxis.range) == (0, 1.05)


def test_cost_by_role_stacks_mean_cost_per_problem():
    summary = pd.DataFrame([{"run": "a", "problems": 4, "cost_guide": 4.0, "cost_executor": 2.0,
                             "cost_consolidator": 0.0, "cost_judge": 0.0},
                            {"run": "b", "problems": 0, "cost_guide": 0.0, "cost_executor": 0.0,
                             "cost_consolidator": 0.0, "cost_judge": 0.0}])
    fig = charts.cost_by_role(summary)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == list(charts.ROLES)
    assert list(fig.data[0].x) == ["a"] and list(fig.data[0].y) == [1.0] and list(fig.data[1].y) == [0.5]
    assert not charts.cost_by_role(summary.iloc[1:]).data
