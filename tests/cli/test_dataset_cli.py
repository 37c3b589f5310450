"""`egur dataset`: add, list, show, remove; then the README's two commands run EGuR and a baseline on it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from egur_core.cli import main

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]
ROWS = [{"id": f"q{i}", "question": q, "answer": a} for i, (q, a) in enumerate([
    ("What is the capital of France?", "Paris"), ("How many legs does a spider have?", "8"),
    ("What is 12 * 12?", "144"), ("Which planet is called the Red Planet?", "Mars"),
    ("What is the chemical symbol for gold?", "Au")])]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "trivia.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return data, str(tmp_path / "m.duckdb")


def test_add_list_show_and_remove(files, capsys):
    data, db = files
    assert main(["dataset", "add", str(data), "--name", "trivia", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "added trivia: 5 rows · exact from trivia.jsonl" in out and "problem column 'question'" in out
    assert f"egur run --benchmark trivia --db {db}" in err
    assert main(["dataset", "list", "--db", db]) == 0
    assert "trivia" in capsys.readouterr().out
    assert main(["dataset", "show", "trivia", "--rows", "2", "--db", db]) == 0
    shown = capsys.readouterr().out
    assert "What is the capital of France?" in shown and "Paris" in shown
    assert main(["dataset", "remove", "trivia", "--db", db]) == 0
    assert main(["dataset", "list", "--db", db]) == 0
    assert "no datasets yet" in capsys.readouterr().err


def test_a_bad_file_is_one_clear_line_and_adds_nothing(files, tmp_path, capsys):
    _, db = files
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,answer\nx,1\n")
    assert main(["dataset", "add", str(bad), "--name", "bad", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no problem column") and "columns found: prompt, answer" in err
    assert "Traceback" not in err
    main(["dataset", "list", "--db", db])
    assert "no datasets yet" in capsys.readouterr().err


def test_an_unknown_scorer_is_refused(files, capsys):
    data, db = files
    assert main(["dataset", "add", str(data), "--name", "t", "--scorer", "fuzzy", "--db", db]) == 1
    assert "unknown scorer 'fuzzy'" in capsys.readouterr().err


def readme_section() -> tuple[str, list[list[str]]]:
    """The README's "Your own problems" example: its JSONL file and its egur commands."""
    text = (ROOT / "README.md").read_text().split("## Your own problems", 1)[1].split("\n## ", 1)[0]
    jsonl = text.split("```json\n", 1)[1].split("```", 1)[0]
    bash = text.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0])[1:] for line in bash.splitlines() if line.startswith("egur ")]
    return jsonl, commands


def test_the_readme_commands_run_egur_and_a_baseline_on_your_dataset(tmp_path, monkeypatch, capsys):
    jsonl, commands = readme_section()
    assert len(jsonl.strip().splitlines()) == 5 and [c[0] for c in commands] == ["dataset", "run", "bench"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trivia.jsonl").write_text(jsonl)
    for command in commands:
        assert main([*command, "--db", "readme.duckdb"]) == 0, command
    out = capsys.readouterr().out
    assert "added trivia: 5 rows" in out and re.search(r"^problems\s+5$", out, re.MULTILINE)
    assert "5 problems of trivia" in out and re.search(r"^cot\s", out, re.MULTILINE)


def test_an_unknown_benchmark_names_your_datasets(files, capsys):
    data, db = files
    main(["dataset", "add", str(data), "--name", "trivia", "--db", db])
    assert main(["run", "--benchmark", "trivai", "--n", "2", "--db", db]) == 1
    assert "yours: trivia" in capsys.readouterr().err


def test_a_run_summary_shows_the_judge_only_when_an_llm_graded(files, capsys):
    data, db = files
    main(["dataset", "add", str(data), "--name", "exact", "--db", db])
    main(["dataset", "add", str(data), "--name", "judged", "--scorer", "judge", "--rubric", "Same meaning.",
          "--db", db])
    capsys.readouterr()
    assert main(["run", "--benchmark", "exact", "--n", "2", "--k", "1", "--db", db]) == 0
    assert "cost judge" not in capsys.readouterr().out
    assert main(["run", "--benchmark", "judged", "--n", "2", "--k", "1", "--db", db]) == 0
    assert re.search(r"^tokens judge\s+[1-9]", capsys.readouterr().out, re.MULTILINE)
