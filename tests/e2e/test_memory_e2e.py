"""Memory and Strategies pages in a real browser: edit a library entry in the grid and find the
change in DuckDB; open a strategy and see its graph drawn."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from egur_core.app.demo import build_demo
from egur_core.app.services import open_memory
from egur_core.memory.ops import AddEntry

from .conftest import CHROMIUM_PATH, serve_app, wait_for_app

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM_PATH).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def memory_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The dashboard on a memory filled by the real loop (simulated model) plus one hand-made entry."""
    db = tmp_path_factory.mktemp("memory-e2e") / "egur.duckdb"
    with ThreadPoolExecutor(1) as pool:  # its own thread: playwright's sync API owns this one's event loop
        pool.submit(build_demo, db, 6, "sat3", 2).result()
    with open_memory(db).session() as store:
        strategy = store.strategy_row(store.list_strategies().iloc[0]["hash"])["json"]
        store.apply(AddEntry(signature="newest entry, edited in the browser test", benchmark="sat3",
                             strategy=strategy), "person")
    with serve_app(db) as url:
        yield url, db


def type_into_first_signature(page: Page, grid, text: str) -> None:
    """Open row 0's signature cell editor (the grid is a canvas: 35 px header and rows) and replace its text.

    A double click opens Glide's overlay editor, a real textarea, which Playwright can fill reliably."""
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + 250, box["y"] + 35 + 17)
    editor = page.locator("textarea.gdg-input")
    expect(editor).to_be_visible(timeout=5_000)
    editor.fill(text)
    editor.press("Enter")


def test_edit_an_entry_in_the_grid_reaches_duckdb(page: Page, memory_app):
    url, db = memory_app
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("link", name="Memory").click()
    wait_for_app(page)
    grid = page.locator(".st-key-entries_editor")
    expect(grid.locator("canvas").first).to_be_visible(timeout=20_000)  # the grid is drawn on a canvas
    save = page.locator(".st-key-entries_save button")
    type_into_first_signature(page, grid, "Edited in a real browser")
    expect(save).to_be_visible(timeout=15_000)
    expect(page.get_by_text("update entry")).to_be_visible()
    save.click()
    expect(page.get_by_text("Saved 1 change(s)").first).to_be_visible(timeout=15_000)
    with open_memory(db).session() as store:
        entries = store.list_entries(search="Edited in a real browser")
        log = store.op_log(1)
    assert len(entries) == 1
    assert (log.iloc[0]["kind"], log.iloc[0]["actor"]) == ("update_entry", "person")


def test_a_strategy_graph_is_drawn(page: Page, memory_app):
    url, _ = memory_app
    page.goto(f"{url}/strategies")
    wait_for_app(page)
    chart = page.locator("[data-testid=stGraphVizChart]:visible").first  # the Graph tab's, not a hidden tab's
    expect(chart.locator("svg g.node").first).to_be_visible(timeout=30_000)
    assert chart.locator("svg g.node").count() >= 3  # start, at least one step, the answer
    expect(page.get_by_text("Overlay an execution")).to_be_visible()
