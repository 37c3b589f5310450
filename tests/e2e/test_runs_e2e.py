"""Runs in a real browser: resume after Stop in the same server, a run the CLI is running shown live
and read-only, a comparison started from the Run page, and the problem inspector on a wrong answer.

The server here answers slowly (simulated latency from a config file), so a run can be caught
while it goes; the CLI run uses the same config file and the same memory file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from egur_core.app.services import open_memory

from .conftest import CHROMIUM_PATH, ROOT, serve_app, wait_for_app

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM_PATH).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(url, memory file, config file): the dashboard on a simulated model that takes 0.25 s per call."""
    folder = tmp_path_factory.mktemp("runs-e2e")
    config, db = folder / "slow.toml", folder / "egur.duckdb"
    config.write_text("sim_latency_s = 0.25\n")
    with serve_app(db, extra_env={"EGUR_CONFIG": str(config)}) as url:
        yield url, db, config


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL")}
    return {**env, "PYTHONPATH": str(ROOT)}


def start_run(page: Page, n: int, k: int = 1) -> str:
    page.locator(".st-key-n input").fill(str(n))
    page.locator(".st-key-n input").press("Tab")
    page.locator(".st-key-k input").fill(str(k))
    page.locator(".st-key-k input").press("Tab")
    page.locator(".st-key-start button").click()
    expect(page).to_have_url(re.compile(r"run_id=run-"), timeout=15_000)
    return re.search(r"run_id=(run-[\w-]+)", page.url).group(1)


def test_a_run_stopped_in_the_browser_resumes_in_the_same_server(page: Page, slow):
    url, db, _ = slow
    page.goto(url)
    wait_for_app(page)
    run_id = start_run(page, n=12)
    page.locator(".st-key-stop button").click()  # at once: the run stops after the problem in flight
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("stopped", timeout=120_000)
    expect(progress).not_to_contain_text("12/12")
    page.reload()  # a reload of the same server: no restart needed to resume
    wait_for_app(page)
    resume = page.locator(".st-key-resume button")
    expect(resume).to_be_visible(timeout=15_000)
    resume.click()
    expect(page.get_by_test_id("stProgress").filter(has_text="12/12 problems · finished")).to_be_visible(
        timeout=240_000)
    with open_memory(db).session() as store:  # waits while the server holds the file
        assert store.get_run(run_id)["status"] == "finished"


def test_a_run_the_cli_is_running_is_shown_live_and_read_only(page: Page, slow):
    url, db, config = slow
    # 500 problems: the seeded solver strategy is exploited at once and calls no model, so a short run would
    # finish before it could be killed
    cli = subprocess.Popen([sys.executable, "-m", "egur_core", "run", "--benchmark", "sat3", "--n", "500", "--k", "1",
                            "--db", str(db), "--config", str(config), "--seed", "3"],
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env(), cwd=ROOT)
    try:
        run_id = next(m.group(1) for line in cli.stderr if (m := re.match(r"run (run-[\w-]+) on sat3", line)))
        page.goto(f"{url}/?run_id={run_id}")
        wait_for_app(page)
        expect(page.get_by_text(re.compile(rf"Running in the cli \(process {cli.pid}"))).to_be_visible(
            timeout=15_000)
        expect(page.get_by_test_id("stProgress").filter(has_text=re.compile(r"\b([2-9]|[1-9]\d+)/500"))).to_be_visible(
            timeout=90_000)
        expect(page.locator(".st-key-resume button")).to_have_count(0)
        expect(page.locator(".st-key-stop button")).to_have_count(0)
    finally:
        cli.kill()
        cli.wait(10)
    expect(page.locator(".st-key-resume button")).to_be_visible(timeout=20_000)  # killed: interrupted, resumable
    expect(page.get_by_text("was interrupted")).to_be_visible()


def test_a_comparison_started_from_the_run_page_opens_in_results(page: Page, app_url: str):
    page.goto(app_url)
    wait_for_app(page)
    page.locator(".st-key-run_mode").get_by_text("Compare methods").click()
    expect(page.locator(".st-key-start button")).to_contain_text("Start comparison", timeout=15_000)
    expect(page.locator(".st-key-methods")).to_contain_text("Self-consistency")  # EGuR, CoT and SC by default
    page.locator(".st-key-n input").fill("3")
    page.locator(".st-key-n input").press("Tab")
    page.locator(".st-key-start button").click()
    expect(page).to_have_url(re.compile(r"comparison=cmp-"), timeout=15_000)
    comparison = re.search(r"comparison=(cmp-[\w-]+)", page.url).group(1)
    done = page.get_by_test_id("stProgress").filter(has_text="9/9 problems · finished")  # EGuR, CoT, SC x 3
    expect(done).to_be_visible(timeout=180_000)
    page.get_by_role("link", name=re.compile("Open this comparison in Results")).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_test_id("stMultiSelect").get_by_text(re.compile("^egur · sat3"))).to_be_visible()
    expect(page.get_by_test_id("stMultiSelect").get_by_text(re.compile("^cot · sat3"))).to_be_visible()
    expect(page.get_by_role("heading", name="Problem by problem")).to_be_visible()
    assert comparison in page.url or "results" in page.url


def test_the_inspector_shows_a_wrong_answer_with_its_gold_answer_and_traces(page: Page, slow):
    url, db, _ = slow
    done = subprocess.run([sys.executable, "-m", "egur_core", "run", "--benchmark", "aime2025", "--n", "6", "--k", "1",
                           "--seed", "5", "--db", str(db), "--quiet"], capture_output=True, text=True, timeout=300,
                          env={**cli_env(), "EGUR_CONFIG": ""}, cwd=ROOT)  # the simulator errs on some AIME problems
    assert done.returncode == 0, done.stderr
    with open_memory(db).session() as store:
        wrong = store.query_one("SELECT p.run_id, p.idx, p.answer, p.gold FROM problems p JOIN runs r USING (run_id) "
                            "WHERE r.benchmark = 'aime2025' AND p.correct = false AND p.answer IS NOT NULL "
                            "ORDER BY p.idx LIMIT 1")
    assert wrong is not None, "the simulated model answered every AIME problem right"
    run_id, idx, answer, gold = wrong["run_id"], wrong["idx"], wrong["answer"], wrong["gold"]
    page.goto(f"{url}/problems?run_id={run_id}&problem={idx + 1}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"Problem #{idx + 1}")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"wrong.*explored|wrong.*exploited")).first).to_be_visible()
    expect(page.get_by_text("Gold answer")).to_be_visible()
    codes = page.get_by_test_id("stCode")
    expect(codes.nth(1)).to_contain_text(answer[:40])
    expect(codes.nth(2)).to_contain_text(gold[:40])
    expect(page.locator("[data-testid=stGraphVizChart]:visible svg g.node").first).to_be_visible(timeout=30_000)
    page.get_by_text(re.compile(r" out tokens ")).first.click()  # a step's trace: its input and output
    expect(page.get_by_text("input (as sent)").first).to_be_visible()
