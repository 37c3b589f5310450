"""The ``sat_solver`` tool and pure DIMACS helpers (pycosat underneath).

The input is whatever the strategy rendered: often a whole problem statement with a DIMACS CNF
somewhere inside it, so parsing is forgiving about surrounding prose, comments and fences.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable

import pycosat

from egur_core.tools.base import ToolResult, failure

_HEADER = re.compile(r"^\s*p\s+cnf\s+(\d+)\s+(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_INT_LINE = re.compile(r"^\s*-?\d+(?:\s+-?\d+)*\s*$")
_PROPS_PER_SECOND = 20_000_000  # rough pycosat speed; bounds the solver thread after a timeout


def _clause_tokens(lines: Iterable[str]) -> list[int]:
    """Integers from clause lines only; prose, comments (``c ...``) and fences are skipped."""
    tokens: list[int] = []
    for line in lines:
        if line.strip() == "%":  # SATLIB files end with '%'
            break
        if _INT_LINE.match(line):
            tokens.extend(int(t) for t in line.split())
    return tokens


def _split_clauses(tokens: list[int], limit: int | None) -> list[list[int]]:
    clauses: list[list[int]] = []
    current: list[int] = []
    for token in tokens:
        if limit is not None and len(clauses) >= limit:
            break
        if token == 0:
            clauses.append(current)
            current = []
        else:
            current.append(token)
    if current and (limit is None or len(clauses) < limit):
        clauses.append(current)  # a last clause missing its terminating 0
    return clauses


def parse_dimacs(text: str) -> tuple[int, list[list[int]]]:
    """Find a DIMACS CNF in ``text``; return (number of variables, clauses).

    With a ``p cnf N M`` header, up to M clauses after it are read. Without one, clause lines
    ending in 0 are accepted and N is inferred. Raises ValueError when there is no CNF or a
    literal names a variable beyond N.
    """
    header = _HEADER.search(text)
    if header:
        num_vars, num_clauses = int(header.group(1)), int(header.group(2))
        clauses = _split_clauses(_clause_tokens(text[header.end():].splitlines()), num_clauses)
    else:
        lines = [line for line in text.splitlines() if _INT_LINE.match(line) and line.split()[-1] == "0"]
        clauses = _split_clauses(_clause_tokens(lines), None)
        if not clauses:
            raise ValueError("no DIMACS CNF found: expected a 'p cnf <variables> <clauses>' header "
                             "followed by clause lines such as '1 -2 3 0'")
        num_vars = max((abs(lit) for clause in clauses for lit in clause), default=0)
    for index, clause in enumerate(clauses, 1):
        for lit in clause:
            if abs(lit) > num_vars:
                raise ValueError(f"clause {index} uses variable {abs(lit)} but the header declares only "
                                 f"{num_vars} variables")
    return num_vars, clauses


def solve(num_vars: int, clauses: list[list[int]], *, prop_limit: int = 0) -> list[int] | None:
    """A full assignment (one literal per variable 1..N) or None if unsatisfiable.

    Raises TimeoutError if ``prop_limit`` propagations were not enough to decide.
    """
    if any(not clause for clause in clauses):
        return None  # the empty clause can never be satisfied
    if not clauses:
        return [-v for v in range(1, num_vars + 1)]
    result = pycosat.solve(clauses, vars=num_vars, prop_limit=prop_limit)
    if result == "UNSAT":
        return None
    if result == "UNKNOWN":
        raise TimeoutError("propagation limit reached")
    chosen = {abs(lit): lit for lit in result}
    return [chosen.get(v, -v) for v in range(1, num_vars + 1)]


def check_assignment(clauses: Iterable[Iterable[int]], literals: Iterable[int]) -> bool:
    """True iff every clause contains a given literal; contradictory literals (v and -v) fail.

    Variables not mentioned are unassigned, so they satisfy nothing.
    """
    given = set(literals)
    if any(-lit in given for lit in given):
        return False
    return all(any(lit in given for lit in clause) for clause in clauses)


def format_result(num_vars: int, model: list[int] | None) -> str:
    return "UNSAT" if model is None else "SAT\n" + " ".join(str(lit) for lit in model)


class SatSolverTool:
    """Decides a CNF formula exactly; the LLM only has to produce the DIMACS text."""

    name = "sat_solver"
    description = ("Decide satisfiability of a CNF formula with a real SAT solver (pycosat). Returns "
                   "'SAT' and a satisfying assignment, or 'UNSAT'.")
    input_format = ("DIMACS CNF: a 'p cnf <variables> <clauses>' line, then one clause per line as "
                    "space-separated non-zero integers ending in 0 (e.g. '1 -2 3 0'). Surrounding text is ignored.")

    async def run(self, input: str, *, timeout: float = 10.0, memory_mb: int | None = None) -> ToolResult:
        """``memory_mb`` is accepted for the common contract; this tool allocates little (its size caps bound it)."""
        start = time.monotonic()
        try:
            num_vars, clauses = parse_dimacs(input)
        except ValueError as exc:
            return failure(str(exc))
        limit = int(timeout * _PROPS_PER_SECOND)
        try:
            model = await asyncio.wait_for(asyncio.to_thread(solve, num_vars, clauses, prop_limit=limit), timeout)
        except TimeoutError:
            return failure(f"timed out after {timeout:.1f} s", seconds=time.monotonic() - start)
        except Exception as exc:  # noqa: BLE001 - a solver crash is reported, never raised
            return failure(f"SAT solver failed: {exc}", seconds=time.monotonic() - start)
        return ToolResult(ok=True, output=format_result(num_vars, model), seconds=time.monotonic() - start)
