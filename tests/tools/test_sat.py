"""The sat_solver tool and the DIMACS helpers other modules (answer checking) rely on."""

import asyncio

import pytest

from egur_core.tools.sat import SatSolverTool, check_assignment, parse_dimacs, solve

pytestmark = pytest.mark.timeout(30)

SAT_CNF = "p cnf 3 3\n1 -2 0\n2 3 0\n-1 -3 0\n"
UNSAT_CNF = "p cnf 2 4\n1 2 0\n-1 2 0\n1 -2 0\n-1 -2 0\n"


def run(text: str):
    return asyncio.run(SatSolverTool().run(text, timeout=5.0))


def test_parse_plain_dimacs_with_comments():
    assert parse_dimacs("c a comment\n" + SAT_CNF) == (3, [[1, -2], [2, 3], [-1, -3]])


def test_parse_dimacs_embedded_in_prose_and_fences():
    text = (
        "We must schedule 3 meetings. Encode it as CNF:\n```\np cnf 3 2\n1 -3 0\n2 3 -1 0\n```\n"
        "Then report the assignment; 42 is not a clause.\n7 8 9"
    )
    assert parse_dimacs(text) == (3, [[1, -3], [2, 3, -1]])


def test_parse_several_clauses_per_line_and_missing_final_zero():
    assert parse_dimacs("p cnf 3 3\n1 -2 0 2 3 0\n-1 -3") == (3, [[1, -2], [2, 3], [-1, -3]])


def test_parse_without_header_infers_variables():
    assert parse_dimacs("clauses:\n1 -2 0\n2 4 0\n") == (4, [[1, -2], [2, 4]])


def test_parse_errors_are_clear():
    with pytest.raises(ValueError, match="no DIMACS CNF found"):
        parse_dimacs("There is no formula here at all.")
    with pytest.raises(ValueError, match="variable 5"):
        parse_dimacs("p cnf 2 1\n1 5 0\n")


def test_solve_known_sat_and_unsat():
    model = solve(*parse_dimacs(SAT_CNF))
    assert model is not None and [abs(lit) for lit in model] == [1, 2, 3]
    assert check_assignment(parse_dimacs(SAT_CNF)[1], model)
    assert solve(*parse_dimacs(UNSAT_CNF)) is None
    assert solve(2, [[1], []]) is None  # the empty clause
    assert solve(2, []) == [-1, -2]


def test_check_assignment():
    clauses = [[1, -2], [2, 3]]
    assert check_assignment(clauses, [1, 2, -3])
    assert not check_assignment(clauses, [-1, 2, -3])  # first clause false
    assert not check_assignment(clauses, [1])  # variables 2, 3 unassigned: clause 2 has no true literal
    assert not check_assignment(clauses, [1, -1, 2])  # contradictory
    assert check_assignment([], [])


def test_tool_output_on_sat_lists_every_variable():
    result = run("Decide this formula:\n" + SAT_CNF + "Thanks!")
    assert result.ok
    head, literals = result.output.split("\n")
    assert head == "SAT"
    model = [int(x) for x in literals.split()]
    assert [abs(x) for x in model] == [1, 2, 3]
    assert check_assignment(parse_dimacs(SAT_CNF)[1], model)


def test_tool_output_on_unsat():
    result = run(UNSAT_CNF)
    assert result.ok and result.output == "UNSAT"


def test_tool_never_raises_on_garbage():
    result = run("please solve my homework")
    assert not result.ok and "no DIMACS CNF found" in result.error


def test_pigeonhole_unsat_is_decided():
    """5 pigeons in 4 holes: small but not trivial for a solver."""
    pigeons, holes = 5, 4
    var = lambda p, h: p * holes + h + 1  # noqa: E731
    clauses = [[var(p, h) for h in range(holes)] for p in range(pigeons)]
    clauses += [[-var(p, h), -var(q, h)] for h in range(holes) for p in range(pigeons) for q in range(p + 1, pigeons)]
    text = f"p cnf {pigeons * holes} {len(clauses)}\n" + "\n".join(" ".join(map(str, c)) + " 0" for c in clauses)
    assert run(text).output == "UNSAT"
