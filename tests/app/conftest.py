"""Fixtures for the dashboard's AppTest suites: an isolated memory file, empty or populated.

Each test gets its own DuckDB file (``EGUR_DB``) and working directory, and no model keys or
config file in sight, so the pages always use the simulated model. The populated file is built
once per session by the real loop on the simulated model (plus a baseline run in the same
comparison), then copied for each test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from egur_core.app.demo import build_demo
from egur_core.app.jobs import default_registry

ROOT = Path(__file__).resolve().parents[2]
MODEL_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG")


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, n=6, k=2)
    return path


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory and memory file path; jobs left running are stopped afterwards."""
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "egur.duckdb"
    monkeypatch.setenv("EGUR_DB", str(path))
    yield path
    for job in default_registry().active():
        job.stop()
        job.wait(60)


@pytest.fixture
def empty_db(app_env: Path) -> Path:
    return app_env


@pytest.fixture
def populated_db(app_env: Path, demo_db_file: Path) -> Path:
    shutil.copy(demo_db_file, app_env)
    return app_env


@pytest.fixture
def open_page() -> Callable[[str], AppTest]:
    """Run the real router (app.py) on one page, as a browser visiting it would."""
    def _open(page: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.switch_page(page)
        return at.run()
    return _open


HOLDER = """
import sys
from egur_core.app.ownership import RunLease
lease = RunLease(sys.argv[1], sys.argv[2], "cli")
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def lease_holder() -> Iterator[Callable[[Path, str], subprocess.Popen]]:
    """Another process (as ``egur run`` would be) holding a run's lease until the test ends or kills it."""
    procs: list[subprocess.Popen] = []

    def start(db: Path, run_id: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), run_id], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stdout.readline().strip() == "holding"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)
