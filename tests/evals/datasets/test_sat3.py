"""3-SAT: seeded generation, solver labels, balance, and assignment-verifying scoring."""

from __future__ import annotations

import pycosat
import pytest

from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.sat3 import (
    Sat3Benchmark,
    check_assignment,
    parse_dimacs,
    problem_from_text,
    score_sat3,
    to_dimacs,
)
from egur_core.evals.datasets.sat3_answer import parse_sat_answer


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return Sat3Benchmark().load(40, seed=3)


def _first(problems: list[Problem], sat: bool) -> Problem:
    return next(p for p in problems if p.meta["satisfiable"] is sat)


def _violating(problem: Problem) -> str:
    """An assignment that makes the first clause false (so it cannot satisfy the formula)."""
    clause = problem.meta["clauses"][0]
    forced = {abs(lit): -lit for lit in clause}
    lits = [forced.get(v, v) for v in range(1, problem.meta["n"] + 1)]
    return "SAT: " + " ".join(map(str, lits))


def test_generation_is_deterministic_and_prefix_stable() -> None:
    bench = Sat3Benchmark()
    a, b = bench.load(20, seed=7), bench.load(20, seed=7)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert [p.id for p in bench.load(5, seed=7)] == [p.id for p in a[:5]]
    assert bench.load(5, seed=7)[4].text == a[4].text
    assert [p.text for p in bench.load(5, seed=8)] != [p.text for p in a[:5]]
    assert a[7].id == "sat3-s7-0007"


def test_shape_follows_the_random_3sat_convention(problems: list[Problem]) -> None:
    for p in problems:
        n, clauses = p.meta["n"], p.meta["clauses"]
        assert n == 12 and p.meta["m"] == round(4.26 * 12) == len(clauses)
        for clause in clauses:
            assert len(clause) == 3 and len({abs(x) for x in clause}) == 3
            assert all(1 <= abs(x) <= n for x in clause)
        assert p.benchmark == "sat3" and p.family == "sat"
        assert f"p cnf {n} {len(clauses)}" in p.text and "SAT: 1 -2 3" in p.text
        assert parse_dimacs(p.text) == (n, clauses)


def test_labels_agree_with_pycosat(problems: list[Problem]) -> None:
    for p in problems:
        solved = pycosat.solve(p.meta["clauses"])
        assert isinstance(solved, list) is p.meta["satisfiable"]
        assert p.answer == "UNSAT" if solved == "UNSAT" else p.answer.startswith("SAT: ")
        assert score_sat3(p.answer, p)


@pytest.mark.parametrize("fraction,expected", [(0.5, 50), (0.3, 30), (1.0, 100)])
def test_balance_is_controlled(fraction: float, expected: int) -> None:
    ps = Sat3Benchmark(num_vars=8, sat_fraction=fraction).load(100, seed=1)
    assert sum(p.meta["satisfiable"] for p in ps) == expected
    first_block = sum(p.meta["satisfiable"] for p in ps[:10])
    assert first_block == round(fraction * 10)


def test_load_keyword_overrides_and_ids() -> None:
    ps = Sat3Benchmark().load(3, seed=2, num_vars=20, alpha=4.0)
    assert all(p.meta["n"] == 20 and p.meta["m"] == 80 for p in ps)
    assert ps[1].id == "sat3-n20-a4-f0.5-s2-0001"
    assert len(Sat3Benchmark(count=7).load()) == 7
    with pytest.raises(ValueError):
        Sat3Benchmark(num_vars=2)
    with pytest.raises(ValueError):
        Sat3Benchmark().load(2, sat_fraction=1.5)


def test_unsat_instance_scoring(problems: list[Problem]) -> None:
    p = _first(problems, sat=False)
    for good in [
        "UNSAT",
        "The answer is: unsat",
        "\\boxed{UNSAT}",
        "It is not satisfiable.",
        "I first guessed SAT, but it is UNSATISFIABLE",
    ]:
        assert score_sat3(good, p), good
    for bad in ["SAT: 1 2 3", "unsure", "", "UNSAT... no wait, SAT"]:
        assert not score_sat3(bad, p), bad


def test_sat_instance_requires_a_verified_assignment(problems: list[Problem]) -> None:
    p = _first(problems, sat=True)
    lits = p.answer.split(":", 1)[1].split()
    assert score_sat3(p.answer, p)
    assert score_sat3(f"The answer is: SAT\n{' '.join(lits)}", p)
    assert score_sat3("\\boxed{SAT: " + ", ".join(lits) + "}", p)
    assert score_sat3("satisfiable with " + ", ".join(f"x{abs(int(x))}={int(x) > 0}" for x in lits), p)
    assert score_sat3("s SATISFIABLE\nv " + " ".join(lits) + " 0\n\nSo the final answer is \\boxed{SAT}", p)
    assert not score_sat3("SAT", p)  # bare verdict: no assignment to verify
    assert not score_sat3(_violating(p), p)  # wrong assignment
    assert not score_sat3("UNSAT", p)
    assert not score_sat3(p.answer + " -1 1", p)  # contradictory literals


def test_check_assignment_rules() -> None:
    clauses = [[1, 2, -3], [-1, 3, 2]]
    assert check_assignment(clauses, [2], 3)  # partial but satisfying
    assert not check_assignment(clauses, [1, -2, -3], 3)
    assert not check_assignment(clauses, [2, 9], 3)  # variable out of range
    assert not check_assignment(clauses, [2, -2], 3)  # inconsistent
    assert parse_sat_answer("SAT: [1, -2, ~x3, ¬x4] 0") == ("SAT", [1, -2, -3, -4])
    assert parse_sat_answer("nothing here") == (None, [])


def test_problem_from_text_roundtrip(problems: list[Problem]) -> None:
    p = problems[0]
    rebuilt = problem_from_text("Please solve:\n" + p.text)
    assert rebuilt is not None and rebuilt.meta["clauses"] == p.meta["clauses"]
    assert rebuilt.meta["satisfiable"] == p.meta["satisfiable"]
    assert problem_from_text("no formula") is None
    assert to_dimacs(3, [[1, -2, 3]]) == "p cnf 3 1\n1 -2 3 0"
