"""`egur strategy validate|graph|run`."""

from __future__ import annotations

import json

import pytest

from egur_core.cli import main
from egur_core.evals.datasets.registry import load_problems

STRATEGIES = "data/strategies"


def test_validate_accepts_a_valid_file(capsys):
    assert main(["strategy", "validate", f"{STRATEGIES}/code_then_verify.json"]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_lists_every_problem_with_its_path_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "steps": [
        {"id": "a", "op": "llm", "prompt": "{q}", "temperature": 5, "out": "r"},
        {"id": "t", "op": "tool", "tool": "web", "input": "{r}", "out": "o"}]}))
    assert main(["strategy", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    for path in ("$.steps[0].temperature", "$.steps[0].prompt", "$.steps[1].tool", "$.steps:"):
        assert path in err


def test_validate_reports_malformed_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "steps": [')
    assert main(["strategy", "validate", str(bad)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_validate_reports_a_missing_file(capsys):
    assert main(["strategy", "validate", "no/such/file.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_graph_prints_dot(capsys):
    assert main(["strategy", "graph", f"{STRATEGIES}/verify_then_escalate.json"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "cheap-first-escalate"') and '"route" -> "escalate" [label="no"]' in out


def test_graph_prints_node_link_json(capsys):
    assert main(["strategy", "graph", f"{STRATEGIES}/sat_solver.json", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [n["id"] for n in data["nodes"]] == ["solve", "final"]


@pytest.mark.timeout(120)
def test_run_prints_the_answer_and_cost_by_step(capsys):
    problem = "p cnf 3 2\n1 -2 0\n2 3 0\n"
    assert main(["strategy", "run", f"{STRATEGIES}/sat_solver.json", "--problem", problem]) == 0
    out = capsys.readouterr().out
    assert "answer: SAT" in out and "solve" in out and "total:" in out


@pytest.mark.timeout(120)
def test_run_uses_the_simulated_model_by_default(capsys, monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    assert main(["strategy", "run", f"{STRATEGIES}/chain_of_thought.json", "--problem", "What is 2+3?"]) == 0
    captured = capsys.readouterr()
    assert "SIMULATED" in captured.err and "think" in captured.out


@pytest.mark.timeout(120)
def test_run_lists_each_tool_call_an_agent_made(capsys, monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL", "EGUR_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    problem = load_problems("sat3", 1, 3)[0]
    assert main(["strategy", "run", f"{STRATEGIES}/native_tool_agent.json", "--problem", problem.text]) == 0
    out = capsys.readouterr().out
    assert "agent turn 1: sat_solver(" in out and f"answer: {problem.answer.split(':')[0]}" in out
