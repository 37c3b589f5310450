"""Real-browser fixtures: the dashboard served by ``streamlit run`` and Debian's chromium.

Reusable outside pytest too (``perf/screenshots.py``, ``perf/bench_dashboard.py``):
:func:`serve_app` starts the server on a free port for a given memory file and
:data:`CHROMIUM` holds the launch arguments verified in this container. The server runs in a
scratch directory with model keys removed, so it always uses the simulated model and no
``egur.toml`` of the checkout leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM = {"executable_path": CHROMIUM_PATH,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}
MODEL_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG")
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


@contextmanager
def serve_app(db: str | Path, timeout_s: float = 30.0, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on ``db``; yields the base URL once ``/_stcore/health`` says ok."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in MODEL_ENV}
    env.update({"EGUR_DB": str(Path(db).resolve()), **(extra_env or {})})
    with tempfile.TemporaryDirectory(prefix="egur-app-") as cwd:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
             "--server.fileWatcherType=none"], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url, timeout_s)
            yield url
        finally:
            stop(proc, 10)


def _wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                if reply.read().decode().strip() == "ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not become healthy at {url} within {timeout_s}s")


def wait_for_app(page, timeout_ms: float = 30_000) -> None:
    """Streamlit's own e2e waits: script finished (the page may still poll in fragments)."""
    page.wait_for_selector(READY, timeout=timeout_ms)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, **CHROMIUM}


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e") / "egur.duckdb"


@pytest.fixture(scope="session")
def app_url(app_db: Path) -> Iterator[str]:
    with serve_app(app_db) as url:
        yield url
