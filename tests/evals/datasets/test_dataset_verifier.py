"""A dataset's verifier runs in the sandbox, never in this process: verdicts, failures, hostile code, use in a run."""

from __future__ import annotations

import hashlib
import select
import socket
from pathlib import Path

import duckdb
import pytest

from egur_core.app.services import open_memory
from egur_core.evals.datasets import catalog, stored
from egur_core.evals.datasets.stored import DatasetSpec
from egur_core.evals.datasets.verifier import SandboxVerifier, VerifierSourceError
from egur_core.reasoner.loop import LoopConfig
from egur_core.runtime.answers import extract_final_answer
from tests.reasoner.loop_runner import run_loop

pytestmark = pytest.mark.timeout(120)
ARITHMETIC = """
def check(problem, answer):
    expression = problem.split("What is", 1)[1].strip(" ?")
    digits = answer.strip().split()[-1].strip(".") if answer.strip() else ""
    if not digits.lstrip("-").isdigit():
        return None
    return int(digits) == eval(expression)
"""


def test_verdicts_come_back_from_the_sandbox():
    verifier = SandboxVerifier(ARITHMETIC)
    assert verifier("What is 12 * 12?", "The answer is 144") is True
    assert verifier("What is 12 * 12?", "The answer is 143") is False
    assert verifier("What is 12 * 12?", "no idea") is None


def test_each_answer_is_checked_once():
    verifier = SandboxVerifier(ARITHMETIC)
    assert verifier.run("What is 2 * 3?", "6") is verifier.run("What is 2 * 3?", "6")


@pytest.mark.parametrize(("source", "why"), [
    ("def check(p, a):\n    return 'yes'\n", "check returned 'yes', not True, False or None"),
    ("def check(p, a):\n    raise KeyError('boom')\n", "KeyError: 'boom'"),
    ("def check(p, a):\n    while True:\n        pass\n", "timed out"),
])
def test_a_check_that_misbehaves_cannot_tell(source, why):
    outcome = SandboxVerifier(source, timeout=2.0).run("p", "a")
    assert outcome.verdict is None and why in outcome.error


def test_an_answer_is_data_never_code():
    verifier = SandboxVerifier("def check(problem, answer):\n    return answer == '\"); import os; print(\"'\n")
    assert verifier("p", '"); import os; print("') is True


def test_a_source_without_check_is_refused_before_it_runs():
    with pytest.raises(VerifierSourceError, match="check takes 1 argument"):
        SandboxVerifier("def check(answer):\n    return True\n")
    with pytest.raises(VerifierSourceError, match="not valid Python"):
        SandboxVerifier("def check(:\n")


@pytest.fixture
def memory_file(tmp_path: Path) -> Path:
    path = tmp_path / "egur.duckdb"
    duckdb.connect(str(path)).close()
    return path


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_a_hostile_check_cannot_change_or_delete_the_memory_file(memory_file):
    before = fingerprint(memory_file)
    hostile = SandboxVerifier(f"""
import os
def check(problem, answer):
    for attempt in (lambda: open({str(memory_file)!r}, "ab").write(b"x"), lambda: os.remove({str(memory_file)!r}),
                    lambda: os.truncate({str(memory_file)!r}, 0)):
        try:
            attempt()
        except OSError:
            pass
    return True
""")
    assert hostile("p", "a") is True  # it ran to the end: every attempt was refused
    assert memory_file.exists() and fingerprint(memory_file) == before


def test_a_hostile_check_cannot_reach_the_network():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        hostile = SandboxVerifier(f"""
import socket
def check(problem, answer):
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(problem.encode())
    return True
""")
        outcome = hostile.run("secret problem", "a")
        nobody_called = not select.select([listener], [], [], 0.5)[0]
    assert outcome.verdict is None and "network" in outcome.error and nobody_called


def test_a_hostile_check_cannot_read_the_memory_file(memory_file):
    reader = f"def check(problem, answer):\n    return len(open({str(memory_file)!r}, 'rb').read()) > 0\n"
    hostile = SandboxVerifier(reader)
    assert hostile("p", "a") is not True


def test_a_label_free_run_learns_from_the_verifier(tmp_path):
    data = tmp_path / "arith.jsonl"
    data.write_text("".join(f'{{"problem": "What is {a} * {b}?"}}\n' for a, b in [(6, 7), (7, 8), (9, 9)]))
    memory = open_memory(tmp_path / "m.duckdb")
    with memory.session() as store:
        stored.add_dataset(store, data, DatasetSpec(name="arith", verifier=ARITHMETIC))
    run_id, outcomes = run_loop(memory, LoopConfig(benchmark="arith", n=3, k=2, seed=0, label_free=True),
                                workload=catalog.workload("arith", 3, 0, memory=memory))
    check = SandboxVerifier(ARITHMETIC)
    with memory.session() as store:
        problems = store.problem_rows(run_id).to_dict("records")
        executions = [e for p in problems for e in store.executions_for(run_id, int(p["idx"]))]
    assert len(outcomes) == 3 and all(o.correct is None for o in outcomes)  # no labels: no accuracy
    verdicts = [check(p["text"], e["answer"] or "") for p in problems for e in store_executions(executions, p)]
    assert any(v is not None for v in verdicts)
    for problem in problems:
        for execution in store_executions(executions, problem):
            verdict = check(problem["text"], execution["answer"] or "")
            if verdict is not None:
                assert execution["correct"] is verdict, (problem["text"], extract_final_answer(execution["answer"]))


def store_executions(executions: list[dict], problem: dict) -> list[dict]:
    return [e for e in executions if e["idx"] == problem["idx"] and e["ok"]]
