"""The HTML report: titled by what it compares, runs told apart, simulated figures marked."""

from __future__ import annotations

import re
import shutil

import pytest

from egur_core.app.demo import build_demo
from egur_core.app.html_report import build_report
from egur_core.app.services import open_memory


@pytest.fixture(scope="module")
def two_egur_runs(tmp_path_factory, demo_db_file):
    """The demo file (EGuR and chain of thought) plus a second EGuR demo run on another seed."""
    path = tmp_path_factory.mktemp("report") / "two.duckdb"
    shutil.copy(demo_db_file, path)
    build_demo(path, n=3, k=1, seed=1)
    with open_memory(path).session() as store:
        runs = store.list_runs()
    return path, runs


def dots(html: str) -> list[str]:
    return re.findall(r"class=dot style='background:(#[0-9a-f]+)'", html)


def test_two_runs_of_one_method_are_not_called_a_baseline_comparison_and_get_two_colours(two_egur_runs):
    path, runs = two_egur_runs
    egur = runs[runs["method"] == "egur"]["run_id"].tolist()
    with open_memory(path).session() as store:
        html = build_report(store, egur)
    assert "<title>EGuR: 2 run(s) on sat3" in html and "vs baselines" not in html
    assert len(set(dots(html))) == 2


def test_a_comparison_is_titled_against_baselines_and_coloured_by_method(two_egur_runs):
    path, runs = two_egur_runs
    first = runs[runs["method"] == "cot"].iloc[0]["comparison_id"]
    with open_memory(path).session() as store:
        html = build_report(store, [first])
    assert "<title>EGuR vs baselines on sat3" in html and len(set(dots(html))) == 2


def test_every_figure_of_simulated_runs_carries_the_mark(two_egur_runs):
    path, runs = two_egur_runs
    with open_memory(path).session() as store:
        html = build_report(store, runs["run_id"].tolist())
    assert html.count('"text":"SIMULATED model"') == 4  # rolling, cumulative, cost, accuracy vs dollars
    assert '"type":"log"' not in html  # a $0 method stays on the cost axis
