"""Figures are pure functions of their frames: check what a reader would see in them."""

from __future__ import annotations

import pandas as pd
import pytest

from egur_core.app import charts
from egur_core.app.progress import ProblemRecord
from egur_core.evals.metrics import ROLLING_WINDOW


def records(correct: list[bool], costs: list[float], exploited_from: int = 2) -> list[ProblemRecord]:
    return [ProblemRecord(idx=i, correct=c, cost_usd=x, exploited=i >= exploited_from)
            for i, (c, x) in enumerate(zip(correct, costs))]


def test_live_frame_computes_running_accuracy_and_cost_in_problem_order():
    frame = charts.live_frame(list(reversed(records([True, False, True, True], [4.0, 2.0, 0.0, 0.0]))))
    assert frame["seen"].tolist() == [1, 2, 3, 4]
    assert frame["running_accuracy"].tolist() == pytest.approx([1, 0.5, 2 / 3, 0.75])
    assert frame["cumulative_cost"].tolist() == [4, 6, 6, 6]
    assert frame["cost_rolling"].tolist() == pytest.approx([4, 3, 2, 1.5])
    assert set(charts.CURVE_COLUMNS) <= set(frame.columns)


def curve_frame(methods: dict[str, str], exploited: bool = False) -> pd.DataFrame:
    rows = []
    for run, method in methods.items():
        for seen in range(1, 4):
            rows.append({"run": run, "method": method, "seen": seen, "correct": True, "cost_usd": 0.1,
                         "running_accuracy": seen / 3, "rolling_accuracy": 1.0, "cumulative_cost": 0.1 * seen,
                         "cost_rolling": 0.1, "exploited": exploited and seen == 3})
    return pd.DataFrame(rows)


def lines(fig) -> list:
    return [t for t in fig.data if t.name != charts.EXPLOITED]


@pytest.mark.parametrize("build", [charts.accuracy_curve, charts.cost_curve, charts.accuracy_cost_curve])
def test_one_line_per_run_and_a_titled_placeholder_when_empty(build):
    fig = build(curve_frame({"run A": "egur", "run B": "egur"}))
    assert sorted(t.name for t in lines(fig)) == ["run A", "run B"]
    assert fig.layout.title.text
    empty = build(curve_frame({}).reindex(columns=charts.CURVE_COLUMNS))
    assert not empty.data and "No finished problems" in empty.layout.annotations[0].text


def test_accuracy_is_rolling_by_default_and_cumulative_on_request_and_says_which():
    frame = curve_frame({"a": "egur"})
    rolling, cumulative = charts.accuracy_curve(frame), charts.accuracy_curve(frame, cumulative=True)
    assert list(rolling.data[0].y) == [1.0, 1.0, 1.0] and f"last {ROLLING_WINDOW}" in rolling.layout.title.text
    assert list(cumulative.data[0].y) == pytest.approx([1 / 3, 2 / 3, 1])
    assert "cumulative" in cumulative.layout.title.text
    assert "rolling" in rolling.layout.title.text


def test_exploited_problems_are_marked_on_the_accuracy_curve():
    fig = charts.accuracy_curve(curve_frame({"a": "egur"}, exploited=True))
    marks = [t for t in fig.data if t.name == charts.EXPLOITED]
    assert len(marks) == 1 and list(marks[0].x) == [3] and marks[0].marker.symbol == "diamond-open"
    assert not [t for t in charts.accuracy_curve(curve_frame({"a": "egur"})).data if t.name == charts.EXPLOITED]


@pytest.mark.parametrize("build", [charts.accuracy_curve, charts.cost_curve, charts.accuracy_cost_curve])
def test_a_simulated_figure_carries_the_mark_inside_itself(build):
    frame = curve_frame({"a": "egur"})
    marked = build(frame, simulated=True) if build is not charts.accuracy_curve else build(frame, False, True)
    assert [a.text for a in marked.layout.annotations] == [charts.SIMULATED_MARK]
    assert not build(frame).layout.annotations  # a real endpoint's figure has none


def test_runs_of_several_methods_are_coloured_by_method():
    fig = charts.accuracy_curve(curve_frame({"egur 1": "egur", "egur 2": "egur", "cot": "cot"}))
    assert {t.name for t in lines(fig)} == {"egur", "cot"}
    assert len(lines(fig)) == 3  # still one line per run
    colours = {t.name: t.line.color for t in lines(fig)}
    assert colours["egur"] != colours["cot"]


def test_accuracy_axes_are_percentages_and_the_cost_axis_is_linear_from_zero():
    frame = curve_frame({"a": "egur"})
    fig = charts.accuracy_curve(frame)
    assert fig.layout.yaxis.tickformat == ".0%" and tuple(fig.layout.yaxis.range) == (0, 1.05)
    trade = charts.accuracy_cost_curve(frame)
    assert trade.layout.xaxis.type == "linear" and trade.layout.xaxis.rangemode == "tozero"


def test_cost_by_role_stacks_mean_cost_per_problem_on_horizontal_bars():
    summary = pd.DataFrame([{"run": "a", "problems": 4, "cost_guide": 4.0, "cost_executor": 2.0,
                             "cost_consolidator": 0.0, "cost_judge": 0.0},
                            {"run": "b", "problems": 0, "cost_guide": 0.0, "cost_executor": 0.0,
                             "cost_consolidator": 0.0, "cost_judge": 0.0}])
    fig = charts.cost_by_role(summary)
    assert fig.layout.barmode == "stack" and fig.data[0].orientation == "h"
    assert [t.name for t in fig.data] == list(charts.METHOD_ROLES)  # no judge graded: none in the legend
    assert list(fig.data[0].y) == ["a"] and list(fig.data[0].x) == [1.0] and list(fig.data[1].x) == [0.5]
    assert not charts.cost_by_role(summary.iloc[1:]).data


def test_the_judge_is_a_bar_of_its_own_when_an_llm_graded():
    summary = pd.DataFrame([{"run": "a", "problems": 2, "cost_guide": 1.0, "cost_executor": 1.0,
                             "cost_consolidator": 0.0, "cost_judge": 0.4}])
    fig = charts.cost_by_role(summary)
    assert [t.name for t in fig.data] == list(charts.ROLES) and list(fig.data[-1].x) == [0.2]


def test_a_drop_in_accuracy_while_cost_falls_is_explained_in_one_line():
    correct = [True] * 10 + [True, False, True] * 3 + [True] * 3 + [False] * 8  # 30 problems
    costs = [0.03] * 10 + [0.003] * 20
    note = charts.trade_off_note(charts.live_frame(records(correct, costs, exploited_from=10)))
    assert note is not None and note.count("\n") == 0
    assert "accuracy fell from 100%" in note and "cached strategy alone" in note and "90%" in note


def test_no_explanation_when_accuracy_holds_or_cost_does_not_fall():
    steady = charts.live_frame(records([True] * 30, [0.03] * 10 + [0.003] * 20))
    dearer = charts.live_frame(records([True] * 10 + [False] * 20, [0.03] * 30))
    assert charts.trade_off_note(steady) is None and charts.trade_off_note(dearer) is None


def test_strategy_scatter_places_each_version_by_cost_and_accuracy():
    versions = pd.DataFrame([
        {"hash": "a1", "name": "cot", "in_run": True, "uses": 9, "chosen": 5, "accuracy": 0.9, "mean_cost": 0.01,
         "first_problem": 1},
        {"hash": "b2", "name": "old", "in_run": False, "uses": 0, "chosen": 0, "accuracy": None, "mean_cost": None,
         "first_problem": None}])
    fig = charts.strategy_scatter(versions, simulated=True)
    assert list(fig.data[0].x) == [0.01] and list(fig.data[0].y) == [0.9] and list(fig.data[0].text) == ["cot"]
    assert charts.SIMULATED_MARK in [a.text for a in fig.layout.annotations]


def test_strategy_timeline_has_one_row_per_strategy_and_marks_exploited_and_wrong():
    timeline = pd.DataFrame({"problem": [1, 2, 3], "name": ["cot", "sc", "cot"], "hash": ["a", "b", "a"],
                             "correct": [True, False, True], "exploited": [False, False, True],
                             "cost_usd": [0.1, 0.1, 0.01]})
    fig = charts.strategy_timeline(timeline)
    by_name = {t.name: (list(t.x), list(t.y), t.marker.symbol) for t in fig.data}
    assert by_name["explored, right"] == ([1], ["cot"], "circle")
    assert by_name["explored, wrong"] == ([2], ["sc"], "circle-open")
    assert by_name["exploited, right"] == ([3], ["cot"], "diamond")
