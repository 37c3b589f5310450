"""Shipped BBEH and AIME data: loading, task recovery for BBEH Mini, AIME scoring."""

from __future__ import annotations

from collections import Counter

import pytest

from egur_core.evals.datasets import get_benchmark, load_problems
from egur_core.evals.datasets.aime import AIME_SUFFIX, extract_aime_answer, parse_integer, score_aime
from egur_core.evals.datasets.base import Problem


def _aime(answer: str) -> Problem:
    return Problem(id="t", benchmark="aime2024", family="math", text="x", answer=answer)


@pytest.mark.parametrize(
    "task,family",
    [("object_counting", "counting"), ("multistep_arithmetic", "arithmetic"), ("word_sorting", "sorting")],
)
def test_bbeh_tasks_load_verbatim(task: str, family: str) -> None:
    ps = load_problems(f"bbeh:{task}")
    assert len(ps) == 200 and len({p.id for p in ps}) == 200
    p = min(ps, key=lambda q: q.id)
    assert p.id == f"bbeh:{task}-0000" and p.benchmark == f"bbeh:{task}" and p.family == family
    assert not p.text.endswith(AIME_SUFFIX) and p.answer
    assert all(get_benchmark(p.benchmark).score(f"The answer is: {p.answer}", p) for p in ps)


def test_load_is_seeded_and_prefix_stable() -> None:
    a = load_problems("bbeh:object_counting", 10, seed=4)
    assert [p.id for p in a] == [p.id for p in load_problems("bbeh:object_counting", None, seed=4)[:10]]
    assert [p.id for p in a] != [p.id for p in load_problems("bbeh:object_counting", 10, seed=5)]
    assert load_problems("aime2025", 0) == []
    with pytest.raises(ValueError):
        load_problems("aime2025", -1)


def test_bbeh_mini_recovers_present_tasks() -> None:
    mini = load_problems("bbeh_mini")
    assert len(mini) == 460
    counts = Counter(p.benchmark for p in mini)
    assert counts["bbeh:object_counting"] == counts["bbeh:word_sorting"] == 20
    assert counts["bbeh_mini"] == 400
    matched = next(p for p in mini if p.benchmark == "bbeh:object_counting")
    full = {p.id: p for p in load_problems("bbeh:object_counting")}
    assert full[matched.id].text == matched.text and "mini_index" in matched.meta
    other = next(p for p in mini if p.benchmark == "bbeh_mini")
    assert other.family == "other" and other.id.startswith("bbeh_mini-")


def test_aime_problems() -> None:
    for year in (2024, 2025):
        ps = load_problems(f"aime{year}")
        assert len(ps) == 30 and all(p.family == "math" and p.text.endswith(AIME_SUFFIX) for p in ps)
        assert all(0 <= int(p.answer) <= 999 for p in ps)
    p = {q.id: q for q in load_problems("aime2025")}["aime2025-I-1"]
    assert p.answer == "70" and score_aime("so \\boxed{70}", p)
    with_image = [q for q in load_problems("aime2024") if "image" in q.meta]
    assert len(with_image) == 6


def test_aime_leading_zeros_compare_as_integers() -> None:
    assert score_aime("\\boxed{25}", _aime("025")) and score_aime("\\boxed{025}", _aime("25"))


def test_aime_last_and_nested_boxed() -> None:
    assert extract_aime_answer("\\boxed{1} then \\boxed{\\text{42}}") == 42
    assert extract_aime_answer("\\fbox{7}") == 7
    assert extract_aime_answer("\\boxed{\\boxed{9}}") == 9
    assert extract_aime_answer("\\boxed{\\frac{1}{2}}") is None  # not an integer: wrong, no fallback
    assert parse_integer("x = 070") == 70 and parse_integer("70^\\circ") == 70
    assert score_aime("\\boxed{5} and a truncated \\boxed{12", _aime("5"))


def test_aime_fallback_to_last_integer() -> None:
    assert score_aime("I computed it; the result is 588", _aime("588"))
    assert not score_aime("588 is wrong, it must be 589", _aime("588"))
    assert not score_aime("no digits at all", _aime("0"))


def test_aime_garbage_never_raises() -> None:
    for junk in ["", "\\boxed{", "}}}{{", "\\boxed{" * 50, "9" * 5000, None, 3.5]:
        assert score_aime(junk, _aime("7")) is False  # type: ignore[arg-type]
