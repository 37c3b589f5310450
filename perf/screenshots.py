"""Screenshots of every dashboard page on a populated memory file, to look at it as a person would.

    python perf/screenshots.py [--out screenshots] [--db PATH]

Builds a demo file with the real loop on the simulated model (unless ``--db`` is given), serves
the app, and saves one full-page PNG per page (plus the Run page showing a past run with a
problem opened, and a run caught while it goes) into ``screenshots/`` (gitignored).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.demo import build_demo  # noqa: E402
from tests.e2e.conftest import CHROMIUM, serve_app, wait_for_app  # noqa: E402

PAGES = ["", "results", "strategies", "memory", "settings"]
SETTLE_MS = 1500  # plotly and graphviz draw after the script has finished
WIDTH = 1440


def full_page(page, path: Path, settle_ms: int = SETTLE_MS) -> Path:
    """Streamlit scrolls inside its main container, not the document: grow the viewport to fit."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": max(1000, int(height) + 40)})
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=path)
    page.set_viewport_size({"width": WIDTH, "height": 1000})
    return path


def shoot(url: str, out: Path, run_id: str | None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**CHROMIUM)
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        for name in PAGES:
            page.goto(f"{url}/{name}")
            wait_for_app(page)
            page.wait_for_timeout(SETTLE_MS)
            saved.append(full_page(page, out / f"{name or 'run'}.png"))
        page.goto(url)
        wait_for_app(page)
        page.locator(".st-key-start button").click()  # a live run: caught mid-way, Stop button showing
        page.get_by_test_id("stProgress").filter(has_text=re.compile(r"\*?\*?[3-9]/20|1[0-9]/20")).wait_for()
        saved.append(full_page(page, out / "run_live.png", settle_ms=0))
        if run_id:
            page.goto(f"{url}/?run_id={run_id}")
            wait_for_app(page)
            page.get_by_test_id("stExpander").filter(has_text="#").first.locator("summary").click()
            wait_for_app(page)
            saved.append(full_page(page, out / "run_past.png"))
        browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--db", help="an existing memory file (default: build a demo one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db, run_id = (Path(args.db), None) if args.db else (Path(scratch) / "demo.duckdb", None)
        if not args.db:
            run_id = build_demo(db, n=15)
        with serve_app(db) as url:
            for path in shoot(url, Path(args.out), run_id):
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
