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
    expect(progress).to_contain_text("10/10", timeout=40_000)
    expect(progress).to_contain_text("finished")
    accuracy = page.get_by_test_id("stPlotlyChart").first
    expect(accuracy.locator("path.point")).to_have_count(10)
    expect(page.get_by_test_id("stExpander").filter(has_text="#10")).to_have_count(1)

    page.get_by_test_id("stExpander").filter(has_text="#10").locator("summary").click()
    expect(page.get_by_test_id("stGraphVizChart").locator("svg g.node").first).to_be_visible(timeout=15_000)

    page.get_by_role("link", name="Results").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(4)
    expect(page.get_by_test_id("stPlotlyChart").first.locator("path.point")).to_have_count(10)


def test_a_refreshed_tab_reattaches_to_its_run(page: Page, app_url: str):
    page.goto(app_url)
    wait_for_app(page)
    page.locator(".st-key-n input").fill("5")
    page.locator(".st-key-n input").press("Tab")
    page.locator(".st-key-start button").click()
    expect(page).to_have_url(re.compile(r"run_id=run-"), timeout=15_000)
    page.reload()
    wait_for_app(page)
    expect(page.get_by_test_id("stProgress")).to_contain_text("finished", timeout=40_000)
    expect(page.get_by_test_id("stProgress")).to_contain_text("5/5")
