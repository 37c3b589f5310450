"""Random 3-SAT near the phase transition, labelled by a real solver (pycosat / picosat).

Convention (Mitchell et al.; Hazra et al. 2025): n variables, m = round(alpha * n) clauses of
3 *distinct* variables, each literal negated with p = 0.5. At alpha ~ 4.26 about half of large
instances are satisfiable; for small n the SAT share is higher, so the SAT/UNSAT balance is
enforced by rejection sampling. Scoring checks the verdict and, for SAT, verifies the assignment.
"""

from __future__ import annotations

import hashlib
import math
import random

import pycosat

from egur_core.evals.datasets.base import Problem, as_text
from egur_core.evals.datasets.sat3_answer import check_assignment, parse_sat_answer

DEFAULT_NUM_VARS = 12
DEFAULT_ALPHA = 4.26
DEFAULT_SAT_FRACTION = 0.5
DEFAULT_COUNT = 100
LABEL_BLOCK = 10  # every block of 10 consecutive problems holds the target SAT share (+-1)
MAX_TRIES = 5000

ANSWER_FORMAT = (
    "Answer with `UNSAT`, or `SAT` followed by a satisfying assignment as a list of literals, e.g. `SAT: 1 -2 3 ...`"
)


def random_3cnf(rng: random.Random, num_vars: int, num_clauses: int) -> list[list[int]]:
    """Uniform random 3-CNF: 3 distinct variables per clause, each negated with p = 0.5."""
    clauses = []
    for _ in range(num_clauses):
        variables = rng.sample(range(1, num_vars + 1), 3)
        clauses.append([v if rng.random() < 0.5 else -v for v in variables])
    return clauses


def solve(clauses: list[list[int]]) -> list[int] | None:
    """A satisfying assignment from picosat (one literal per variable), or None if UNSAT."""
    result = pycosat.solve(clauses)
    return list(result) if isinstance(result, list) else None


def to_dimacs(num_vars: int, clauses: list[list[int]]) -> str:
    """DIMACS CNF: `p cnf n m` header, then one `0`-terminated clause per line."""
    lines = [f"p cnf {num_vars} {len(clauses)}"]
    lines += [" ".join(str(lit) for lit in clause) + " 0" for clause in clauses]
    return "\n".join(lines)


def parse_dimacs(text: str) -> tuple[int, list[list[int]]] | None:
    """Find the `p cnf n m` header in `text` and read m clauses after it; None if malformed."""
    lines = as_text(text).splitlines()
    for idx, line in enumerate(lines):
        parts = line.split()
        if len(parts) == 4 and parts[:2] == ["p", "cnf"] and parts[2].isdigit() and parts[3].isdigit():
            num_vars, num_clauses = int(parts[2]), int(parts[3])
            tokens: list[int] = []
            for body in lines[idx + 1 :]:
                if body.strip().startswith("c"):
                    continue
                try:
                    tokens += [int(t) for t in body.split()]
                except ValueError:
                    break
            clauses, current = [], []
            for tok in tokens:
                if tok == 0:
                    clauses.append(current)
                    current = []
                else:
                    current.append(tok)
            if len(clauses) < num_clauses or any(abs(x) > num_vars for c in clauses for x in c):
                return None
            return num_vars, clauses[:num_clauses]
    return None


def problem_text(num_vars: int, clauses: list[list[int]]) -> str:
    """The prompt: what to decide, how DIMACS reads, the formula, and the answer format."""
    return (
        "Decide whether the following 3-CNF formula is satisfiable. It is given in DIMACS format: "
        "the header `p cnf <variables> <clauses>` is followed by one clause per line; a literal k "
        "means variable k is true, -k means it is false, and each clause ends with 0. A clause "
        "holds when at least one of its literals is true; the formula holds when every clause does.\n\n"
        f"{to_dimacs(num_vars, clauses)}\n\n"
        f"{ANSWER_FORMAT} (one literal per variable 1..{num_vars})."
    )


def _target_labels(block: int, fraction: float, key: str) -> list[bool]:
    """SAT/UNSAT targets for one block: the cumulative SAT count tracks `fraction` exactly
    (largest-remainder), positions shuffled so the order is not predictable."""

    def cum(k: int) -> int:
        return math.floor(fraction * k * LABEL_BLOCK + 0.5)

    n_sat = cum(block + 1) - cum(block)
    labels = [True] * n_sat + [False] * (LABEL_BLOCK - n_sat)
    random.Random(f"{key}|labels|{block}").shuffle(labels)
    return labels


class Sat3Benchmark:
    """Seeded random 3-SAT. Problem i of a seed never depends on how many are loaded."""

    def __init__(
        self,
        num_vars: int = DEFAULT_NUM_VARS,
        alpha: float = DEFAULT_ALPHA,
        sat_fraction: float = DEFAULT_SAT_FRACTION,
        count: int = DEFAULT_COUNT,
    ) -> None:
        _check_params(num_vars, alpha, sat_fraction)
        self.num_vars, self.alpha, self.sat_fraction, self.count = num_vars, alpha, sat_fraction, count
        self.name: str = "sat3"
        self.family: str = "sat"
        self.description: str = (
            f"Random 3-SAT, n={num_vars}, m=round({alpha}*n), {sat_fraction:.0%} SAT; labelled by picosat"
        )

    def __repr__(self) -> str:
        return f"Sat3Benchmark(num_vars={self.num_vars}, alpha={self.alpha}, sat_fraction={self.sat_fraction})"

    def load(
        self,
        n: int | None = None,
        seed: int = 0,
        *,
        num_vars: int | None = None,
        alpha: float | None = None,
        sat_fraction: float | None = None,
    ) -> list[Problem]:
        """`n` instances (default `count`) for `seed`; keyword arguments override the constructor."""
        nv = self.num_vars if num_vars is None else num_vars
        al = self.alpha if alpha is None else alpha
        fr = self.sat_fraction if sat_fraction is None else sat_fraction
        _check_params(nv, al, fr)
        total = self.count if n is None else n
        if total < 0:
            raise ValueError(f"n must be >= 0 or None, got {n}")
        return [generate_problem(i, seed, nv, al, fr) for i in range(total)]

    def score(self, prediction: str, problem: Problem) -> bool:
        return score_sat3(prediction, problem)

    @staticmethod
    def verifier(problem_text: str, answer: str) -> bool | None:
        return sat_verifier(problem_text, answer)


def _check_params(num_vars: int, alpha: float, sat_fraction: float) -> None:
    if num_vars < 3:
        raise ValueError(f"3-SAT needs at least 3 variables, got num_vars={num_vars}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if not 0.0 <= sat_fraction <= 1.0:
        raise ValueError(f"sat_fraction must be in [0, 1], got {sat_fraction}")


def _problem_id(index: int, seed: int, num_vars: int, alpha: float, fraction: float) -> str:
    defaults = (num_vars, alpha, fraction) == (DEFAULT_NUM_VARS, DEFAULT_ALPHA, DEFAULT_SAT_FRACTION)
    params = "" if defaults else f"n{num_vars}-a{alpha:g}-f{fraction:g}-"
    return f"sat3-{params}s{seed}-{index:04d}"


def generate_problem(index: int, seed: int, num_vars: int, alpha: float, fraction: float) -> Problem:
    """Instance `index` of a seeded stream: draw formulas until the solver's label matches the
    slot's target label (rejection sampling keeps the SAT share at `fraction`)."""
    key = f"sat3|{seed}|{num_vars}|{alpha!r}|{fraction!r}"
    want_sat = _target_labels(index // LABEL_BLOCK, fraction, key)[index % LABEL_BLOCK]
    rng = random.Random(f"{key}|{index}")
    num_clauses = max(1, round(alpha * num_vars))
    draws = 0
    while True:
        draws += 1
        if draws > MAX_TRIES:
            label = "SAT" if want_sat else "UNSAT"
            raise ValueError(
                f"no {label} instance in {MAX_TRIES} draws at n={num_vars}, alpha={alpha}; "
                "move alpha towards 4.26 or change sat_fraction"
            )
        clauses = random_3cnf(rng, num_vars, num_clauses)
        model = solve(clauses)
        if (model is not None) == want_sat:
            break
    answer = "UNSAT" if model is None else "SAT: " + " ".join(str(lit) for lit in model)
    return Problem(
        id=_problem_id(index, seed, num_vars, alpha, fraction),
        benchmark="sat3",
        family="sat",
        text=problem_text(num_vars, clauses),
        answer=answer,
        meta={
            "n": num_vars,
            "m": num_clauses,
            "alpha": alpha,
            "clauses": clauses,
            "satisfiable": model is not None,
            "seed": seed,
            "index": index,
            "draws": draws,
        },
    )


def score_sat3(prediction: str, problem: Problem) -> bool:
    """UNSAT instance: correct iff the verdict is UNSAT. SAT instance: correct iff the verdict is
    SAT *and* the given literals satisfy every clause (a bare "SAT" is not enough)."""
    try:
        verdict, literals = parse_sat_answer(as_text(prediction))
        if not problem.meta.get("satisfiable", problem.answer.strip().upper().startswith("SAT")):
            return verdict == "UNSAT"
        if verdict != "SAT":
            return False
        clauses, num_vars = problem.meta.get("clauses"), problem.meta.get("n")
        if not clauses or not num_vars:  # a hand-made Problem: fall back to the formula in the text
            parsed = parse_dimacs(problem.text)
            if parsed is None:
                return False
            num_vars, clauses = parsed
        return check_assignment(clauses, literals, int(num_vars))
    except Exception:  # scoring must not crash a run
        return False


def sat_verifier(problem_text: str, answer: str) -> bool | None:
    """Label-free check: a SAT claim is checked against the formula in the text; an UNSAT claim
    cannot be checked cheaply (None)."""
    parsed = parse_dimacs(problem_text)
    if parsed is None:
        return None
    num_vars, clauses = parsed
    verdict, literals = parse_sat_answer(answer)
    if verdict is None:
        return False
    if verdict == "UNSAT":
        return None
    return bool(literals) and check_assignment(clauses, literals, num_vars)


def problem_from_text(text: str) -> Problem | None:
    """Rebuild a sat3 Problem (labelled by picosat) from any text holding a DIMACS formula, e.g.
    a prompt that wraps our problem text; id is content-addressed. None if no formula is found."""
    parsed = parse_dimacs(text)
    if parsed is None or not parsed[1]:
        return None
    num_vars, clauses = parsed
    model = solve(clauses)
    digest = hashlib.sha256(to_dimacs(num_vars, clauses).encode()).hexdigest()[:10]
    return Problem(
        id=f"sat3-x{digest}",
        benchmark="sat3",
        family="sat",
        text=problem_text(num_vars, clauses),
        answer="UNSAT" if model is None else "SAT: " + " ".join(map(str, model)),
        meta={"n": num_vars, "m": len(clauses), "clauses": clauses, "satisfiable": model is not None},
    )
