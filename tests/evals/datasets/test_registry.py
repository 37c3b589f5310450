"""Registry names and errors, text lookup, final-answer extraction, garbage robustness."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from egur_core.evals.datasets import (
    Benchmark,
    benchmark_names,
    extract_final_answer,
    find_problem_by_text,
    get_benchmark,
    load_problems,
    score_prediction,
)
from egur_core.evals.datasets.aime import AIME_SUFFIX


def test_names_and_protocol() -> None:
    names = benchmark_names()
    for name in [
        "sat3",
        "bbeh:object_counting",
        "bbeh:multistep_arithmetic",
        "bbeh:word_sorting",
        "bbeh_mini",
        "aime2025",
        "aime2024",
    ]:
        assert name in names
        bench = get_benchmark(name)
        assert isinstance(bench, Benchmark) and bench.name == name and bench.description
    assert get_benchmark("bbeh_object_counting").name == "bbeh:object_counting"
    assert get_benchmark(" AIME2025 ").name == "aime2025"


@pytest.mark.parametrize("bad", ["nope", "bbeh:not_a_task", "aime1999", "", "bbeh:"])
def test_unknown_names_list_valid_ones(bad: str) -> None:
    with pytest.raises(ValueError, match="valid names: sat3, .*aime2025"):
        get_benchmark(bad)


def test_data_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task_dir = tmp_path / "benchmarks" / "bbeh" / "bbeh_toy_logic"
    task_dir.mkdir(parents=True)
    examples = [{"input": f"Toy question {i}?", "target": str(i)} for i in range(3)]
    (task_dir / "task.json").write_text(json.dumps({"canary": "x", "examples": examples}))
    monkeypatch.setenv("EGUR_DATA_DIR", str(tmp_path))
    assert "bbeh:toy_logic" in benchmark_names() and "bbeh:object_counting" not in benchmark_names()
    assert [p.answer for p in sorted(load_problems("bbeh:toy_logic"), key=lambda p: p.id)] == ["0", "1", "2"]
    hit = find_problem_by_text("Toy question 2?")
    assert hit is not None and hit.id == "bbeh:toy_logic-0002" and hit.family == "other"


def test_find_problem_by_text_hits() -> None:
    for name in ["bbeh:word_sorting", "aime2024"]:
        p = load_problems(name, 1, seed=9)[0]
        hit = find_problem_by_text(p.text)
        assert hit is not None and hit.id == p.id and hit.answer == p.answer
        assert find_problem_by_text("\n  " + p.text + "\n").id == p.id
    aime = load_problems("aime2025", 1)[0]
    assert find_problem_by_text(aime.text.removesuffix(AIME_SUFFIX).strip()).id == aime.id
    unmatched_mini = next(p for p in load_problems("bbeh_mini") if p.benchmark == "bbeh_mini")
    assert find_problem_by_text(unmatched_mini.text).id == unmatched_mini.id


def test_find_problem_by_text_misses_and_isolation() -> None:
    p = load_problems("aime2025", 1)[0]
    assert find_problem_by_text(p.text + " (modified)") is None
    assert find_problem_by_text("") is None and find_problem_by_text(None) is None  # type: ignore[arg-type]
    assert find_problem_by_text(load_problems("sat3", 1)[0].text) is None  # generated, not shipped
    hit = find_problem_by_text(p.text)
    hit.meta["poisoned"] = True
    assert "poisoned" not in find_problem_by_text(p.text).meta


def test_extract_final_answer() -> None:
    assert extract_final_answer("work... \\boxed{1} ... \\boxed{\\frac{3}{4}}") == "\\frac{3}{4}"
    assert extract_final_answer("Reasoning.\nThe answer is: **(B)**.\nThanks") == "(B)"
    assert extract_final_answer("so\nFinal answer: 42") == "42"
    assert extract_final_answer("step one\n\nstep two\n  17  \n\n") == "17"
    assert extract_final_answer("The answer is $x=3$.") == "x=3"
    assert extract_final_answer("") == "" and extract_final_answer(None) == ""  # type: ignore[arg-type]


def test_score_prediction_dispatches_on_problem_benchmark() -> None:
    mini = load_problems("bbeh_mini", 30, seed=2)
    assert all(score_prediction(f"The answer is: {p.answer}", p) for p in mini)
    sat = load_problems("sat3", 2)
    assert all(score_prediction(p.answer, p) for p in sat)


def test_garbage_predictions_never_raise() -> None:
    rng = random.Random(0)
    alphabet = "\\{}$()[]:.,-~0123456789 SATUNSboxedtext\n*'?é\u2212"
    junk = ["", None, 12, "\\boxed{" * 30, "}" * 30, "9" * 6000, "SAT: " + "9" * 50, "\ud800"]
    junk += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(150)]
    problems = [load_problems(name, 1)[0] for name in benchmark_names()]
    for prediction in junk:
        extract_final_answer(prediction)  # type: ignore[arg-type]
        for p in problems:
            assert get_benchmark(p.benchmark).score(prediction, p) in (True, False)  # type: ignore[arg-type]
