"""Where costs are shown, a model without a known price says "price unknown" (never $0) and the share of
prompt tokens the provider served from its cache is shown beside them: the Run page, Results, the report.

The run behind these tests went over real HTTP to a local server that reports cached prompt tokens the way
OpenAI-compatible servers do, on a model that no price list knows (as a local model is)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from egur_core.app import results_data
from egur_core.app.html_report import build_report
from egur_core.app.services import open_memory, resolve_settings
from egur_core.memory.database import close_idle_files
from egur_core.reasoner.loop import LoopConfig
from tests.fakes.openai_server import FakeOpenAIServer
from tests.reasoner.loop_runner import run_loop


@pytest.fixture(scope="module")
def unpriced_run_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("unpriced") / "unpriced.duckdb"
    with FakeOpenAIServer("prefix_cache") as server:
        settings = resolve_settings("my-local-7b", server.base_url)  # as `egur run --model --base-url` does
        settings.endpoints["default"].api_key = SecretStr(server.api_key)
        run_id, _ = run_loop(open_memory(path), LoopConfig(benchmark="sat3", n=3, k=2, seed=1), settings=settings)
    return path, run_id


@pytest.fixture
def unpriced_db(app_env: Path, unpriced_run_file: tuple[Path, str]) -> str:
    close_idle_files()  # a file that lingers open may keep its last writes in the WAL, which a copy would miss
    shutil.copy(unpriced_run_file[0], app_env)
    return unpriced_run_file[1]


def test_the_summary_of_an_unpriced_run_says_so_and_counts_cached_prompt_tokens(unpriced_run_file):
    path, run_id = unpriced_run_file
    with open_memory(path).session() as store:
        row = results_data.summary(store, [run_id]).iloc[0]
    assert not row["price_known"]
    assert 0 < row["tokens_cached"] < row["prompt_tokens"] and row["cached_share"] == pytest.approx(
        row["tokens_cached"] / row["prompt_tokens"])


def test_the_run_page_shows_price_unknown_instead_of_dollars(unpriced_db, open_page):
    at = open_page("pages/run.py")
    at.query_params["run_id"] = unpriced_db
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost"] == "price unknown" and metrics["Per problem"] == "price unknown"
    assert any("from the provider's prompt cache" in c.value for c in at.caption)


def test_a_priced_run_shows_its_dollars(populated_db, open_page):
    with open_memory(populated_db).session() as store:
        run_id = store.list_runs().query("method == 'egur'")["run_id"].iloc[0]
    at = open_page("pages/run.py")
    at.query_params["run_id"] = run_id
    at.run()
    assert {m.label: m.value for m in at.metric}["Cost"].startswith("$")
    assert any("none from the provider's prompt cache" in c.value for c in at.caption)  # the simulator caches nothing


def test_results_leave_unknown_dollars_blank_and_say_why(unpriced_db, open_page):
    at = open_page("pages/results.py")
    at.query_params["run_id"] = unpriced_db
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "price" in d.value.columns)
    row = table[table["run_id"] == unpriced_db].iloc[0]
    assert row["price"] == "unknown" and row["cost_usd"] != row["cost_usd"]  # NaN: blank in the grid, not $0
    assert any("price unknown for 1 run(s)" in c.value for c in at.caption)


def test_the_report_says_price_unknown_and_shows_the_cached_share(unpriced_run_file):
    path, run_id = unpriced_run_file
    with open_memory(path).session() as store:
        html = build_report(store, [run_id])
        share = results_data.summary(store, [run_id]).iloc[0]["cached_share"]
    assert "<td colspan=6 class=unknown>price unknown</td>" in html
    assert f"<td>{share:.0%}</td>" in html
