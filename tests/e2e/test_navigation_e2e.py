"""Deep links work on a fresh server: the router's navigation, not a listing of pages/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import CHROMIUM_PATH, serve_app, wait_for_app

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM_PATH).exists(), reason="needs Debian's chromium")]


def test_a_deep_link_as_the_first_request_gets_the_real_navigation(page: Page, tmp_path: Path):
    with serve_app(tmp_path / "egur.duckdb") as url:
        page.goto(f"{url}/memory")
        wait_for_app(page)
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Run")).to_be_visible(timeout=15_000)
        expect(nav.get_by_role("link", name="common")).to_have_count(0)
        expect(page.get_by_role("heading", name="Memory")).to_be_visible()
