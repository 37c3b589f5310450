"""The Run page in a real browser: a 10-problem simulated run fills the live curves; Results shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import CHROMIUM_PATH, wait_for_app

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM_PATH).exists(), reason="needs Debian's chromium")]


def test_a_run_fills_the_live_curves_and_reaches_results(page: Page, app_url: str):
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_text("Pick a benchmark and press Start")).to_be_visible()
    expect(page.locator(".stMarkdownBadge", has_text="Simulated model")).to_be_visible()
    problems = page.locator(".st-key-n input")
    problems.fill("10")
    problems.press("Tab")
    page.locator(".st-key-start button").click()
    expect(page).to_have_url(re.compile(r"run_id=run-"), timeout=15_000)
    progress = page.get_by_test_id("stProgress")
    expect(progress.filter(has_text="10/10 problems · finished")).to_be_visible(timeout=90_000)
    accuracy = page.get_by_test_id("stPlotlyChart").first
    expect(accuracy.locator("g.trace").first.locator("path.point")).to_have_count(10)  # the line; then exploited marks
    expect(accuracy.locator(".annotation-text", has_text="SIMULATED model")).to_be_visible()
    expect(page.get_by_test_id("stExpander").filter(has_text="#10")).to_have_count(1)

    page.get_by_test_id("stExpander").filter(has_text="#10").locator("summary").click()
    expect(page.locator("[data-testid=stGraphVizChart]:visible svg g.node").first).to_be_visible(timeout=30_000)

    page.get_by_role("link", name="Results").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(4)
    expect(page.get_by_test_id("stPlotlyChart").first.locator("g.trace").first.locator("path.point")).to_have_count(
        10, timeout=15_000)


def test_a_refreshed_tab_reattaches_to_its_run(page: Page, app_url: str):
    page.goto(app_url)
    wait_for_app(page)
    page.locator(".st-key-n input").fill("5")
    page.locator(".st-key-n input").press("Tab")
    page.locator(".st-key-start button").click()
    expect(page).to_have_url(re.compile(r"run_id=run-"), timeout=15_000)
    page.reload()
    wait_for_app(page)
    expect(page.get_by_test_id("stProgress").filter(has_text="5/5 problems · finished")).to_be_visible(timeout=90_000)
