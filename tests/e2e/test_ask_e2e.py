"""Ask in a real browser: type a problem, see the candidates drawn, run them, give the answer, see the memory edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from egur_core.app.services import open_memory

from .conftest import CHROMIUM_PATH, serve_app, wait_for_app

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM_PATH).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def ask_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("ask-e2e") / "egur.duckdb"
    with serve_app(db) as url:
        yield url, db


def test_ask_a_question_and_teach_the_answer(page: Page, ask_app):
    url, db = ask_app
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("link", name="Ask").click()
    wait_for_app(page)
    page.locator(".st-key-ask_text textarea").fill("How many legs do 3 spiders have?")
    page.locator(".st-key-ask_start button").click()
    expect(page.get_by_text("The Guide's candidates (3)")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stGraphVizChart")).to_have_count(3, timeout=15_000)
    expect(page.get_by_test_id("stGraphVizChart").first.locator("svg g.node").first).to_be_visible()
    page.locator(".st-key-ask_run button").click()
    expect(page.get_by_text("Was it right?")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Answer:").first).to_be_visible()
    page.locator(".st-key-ask_gold input").fill("24")
    page.locator(".st-key-ask_gold input").press("Enter")
    wait_for_app(page)
    page.locator(".st-key-ask_tell button").click()
    expect(page.get_by_text("What the Consolidator wants to change")).to_be_visible(timeout=30_000)
    page.locator(".st-key-ask_apply button").click()
    expect(page.get_by_text("Memory edits applied: 1")).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-ask_done_edits")).to_be_visible()
    run_id = page.url.split("ask=")[1].split("&")[0]
    with open_memory(db).session() as store:
        ops = store.op_log()
    ours = ops[ops["run_id"] == run_id]  # the rest are the shipped strategies the file was seeded with
    assert ours["actor"].tolist() == ["consolidator"] and (ops.dropna(subset=["run_id"])["run_id"] == run_id).all()
