"""A normal (non-editable) install ships the data: the wheel, installed in a fresh virtual environment,
runs every shipped benchmark from outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from egur_core.evals.datasets.registry import benchmark_names

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("egur-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (the dependencies come from this interpreter's site-packages) with only the wheel in it."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return venv


def test_the_wheel_carries_the_shipped_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "egur_core/data/benchmarks/bbeh/bbeh_object_counting/task.json" in names
    assert "egur_core/data/strategies/chain_of_thought.json" in names


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import egur_core; print(egur_core.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(installed) in where and str(ROOT) not in where


@pytest.mark.parametrize("dataset", benchmark_names())
def test_a_wheel_install_runs_every_shipped_benchmark(installed: Path, tmp_path: Path, dataset: str) -> None:
    done = subprocess.run([str(installed / "bin" / "egur"), "run", "--benchmark", dataset, "--n", "2", "--quiet",
                           "--db", str(tmp_path / "m.duckdb")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "problems" in done.stdout and "accuracy" in done.stdout
