"""Screenshots of every dashboard page on a populated memory file, to look at it as a person would.

    python perf/screenshots.py [--out screenshots] [--db PATH] [--widths 1600,1280]

Builds a demo file with the real loop on the simulated model (unless ``--db`` is given: EGuR and a
chain-of-thought baseline in one comparison, plus queued proposals for the review queue), serves the
app, and saves one full-page PNG per view and width into ``screenshots/`` (gitignored): every page,
the Run page on a past run with a problem open, a run and a comparison caught while they go, the
inspector on a problem, the Memory page's review queue and audit log.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.app.demo import build_demo  # noqa: E402
from egur_core.app.services import open_memory  # noqa: E402
from egur_core.memory.database import close_idle_files  # noqa: E402
from egur_core.memory.ops import AddNote  # noqa: E402
from tests.e2e.conftest import CHROMIUM, serve_app, wait_for_app  # noqa: E402

SETTLE_MS = 1500  # plotly and graphviz draw after the script has finished


def full_page(page: Page, path: Path, width: int, settle_ms: int = SETTLE_MS) -> Path:
    """Streamlit scrolls inside its main container, not the document: grow the viewport to fit."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, int(height) + 40)})
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": 900})
    return path


def _tab(name: str) -> Callable[[Page], None]:
    return lambda page: page.get_by_role("tab", name=re.compile(name)).click()


def _open_first_problem(page: Page) -> None:
    page.get_by_test_id("stExpander").filter(has_text="#").first.locator("summary").click()


def views(run_id: str | None) -> list[tuple[str, str, Callable[[Page], None] | None]]:
    """(file name, URL path, an action before the shot)."""
    shots = [("run", "/", None), ("results", "/results", None), ("strategies", "/strategies", None),
             ("strategies_compare", "/strategies", _tab("Compare")), ("evolution", "/evolution", None),
             ("memory", "/memory", None), ("memory_review", "/memory", _tab("Review queue")),
             ("memory_log", "/memory", _tab("Audit log")), ("settings", "/settings", None)]
    if run_id:
        shots += [("run_past", f"/?run_id={run_id}", _open_first_problem),
                  ("problems", f"/problems?run_id={run_id}&problem=2", None)]
    return shots


def live_shots(page: Page, url: str, out: Path, width: int) -> list[Path]:
    """A run and then a comparison started from the Run page, caught while they go."""
    saved = []
    page.goto(url)
    wait_for_app(page)
    page.locator(".st-key-start button").click()
    page.get_by_test_id("stProgress").filter(has_text=re.compile(r"\b([3-9]|1[0-9])/20")).wait_for(timeout=120_000)
    saved.append(full_page(page, out / f"run_live_{width}.png", width, settle_ms=0))
    page.locator(".st-key-stop button").click()
    page.get_by_test_id("stProgress").filter(has_text="stopped").wait_for(timeout=120_000)
    page.goto(url)
    wait_for_app(page)
    page.locator(".st-key-run_mode").get_by_text("Compare methods").click()
    page.locator(".st-key-start button", has_text="Start comparison").wait_for()
    page.locator(".st-key-start button").click()
    page.get_by_test_id("stProgress").filter(has_text=re.compile(r"\b([3-9]|[1-5][0-9])/60")).wait_for(
        timeout=120_000)
    saved.append(full_page(page, out / f"compare_live_{width}.png", width, settle_ms=0))
    page.locator(".st-key-stop_comparison button").click()
    page.get_by_test_id("stProgress").filter(has_text="stopped").wait_for(timeout=180_000)
    return saved


def shoot(url: str, out: Path, run_id: str | None, widths: list[int], live: bool = True) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**CHROMIUM)
        for width in widths:
            page = browser.new_page(viewport={"width": width, "height": 900})
            for name, path, action in views(run_id):
                page.goto(f"{url}{path}")
                wait_for_app(page)
                if action is not None:
                    action(page)
                    wait_for_app(page)
                page.wait_for_timeout(SETTLE_MS)
                saved.append(full_page(page, out / f"{name}_{width}.png", width))
            if live:
                saved += live_shots(page, url, out, width)
            page.close()
        browser.close()
    return saved


def demo_file(path: Path) -> str:
    """The demo comparison plus a few queued proposals (the review queue has something to show)."""
    run_id = build_demo(path, n=15)
    with open_memory(path).session() as store:
        store.propose([AddNote(text="Check unit propagation before branching."),
                       AddNote(text="Verify the assignment clause by clause.")], run_id, 2)
        store.propose([AddNote(text="Prefer the SAT solver tool for 3-SAT.")], run_id, 5)
    close_idle_files()
    return run_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--db", help="an existing memory file (default: build a demo one)")
    parser.add_argument("--widths", default="1600,1280", help="comma list of viewport widths in pixels")
    parser.add_argument("--no-live", action="store_true", help="skip the run and comparison caught while they go")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        db, run_id = (Path(args.db), None) if args.db else (Path(scratch) / "demo.duckdb", None)
        if not args.db:
            run_id = demo_file(db)
        with serve_app(db) as url:
            for path in shoot(url, Path(args.out), run_id, widths, live=not args.no_live):
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
