"""What the simulated model "knows": the gold answer of a problem found inside a prompt.

A real model reasons; the simulation instead looks the problem up (shipped BBEH/AIME problems by
their most distinctive line, any DIMACS formula by solving it with picosat) and then decides,
with a seeded coin whose odds depend on the strategy, whether to say the right answer. Unknown
problems get plausible guesses, so free-typed problems work but are usually answered wrongly.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from functools import lru_cache

from egur_core.evals.datasets import recent
from egur_core.evals.datasets.base import Problem
from egur_core.evals.datasets.registry import benchmark_names, load_problems, score_prediction
from egur_core.evals.datasets.sat3 import problem_from_text
from egur_core.runtime.answers import extract_final_answer


@dataclass(frozen=True)
class Known:
    """A problem recognised in a prompt (``problem`` is None when it is not one we know)."""

    key: str
    family: str
    problem: Problem | None

    @property
    def difficulty(self) -> float:
        """A stable number in [0, 1): how hard this problem is for every simulated model."""
        return int(hashlib.sha256(("difficulty|" + self.key).encode()).hexdigest()[:8], 16) / 2**32


_index_lock = threading.Lock()
_line_index: dict[str, list[Problem]] | None = None


def _longest_line(text: str) -> str:
    return max((line.strip() for line in text.splitlines()), key=len, default="")


def _shipped_index() -> dict[str, list[Problem]]:
    global _line_index
    with _index_lock:
        if _line_index is None:
            index: dict[str, list[Problem]] = {}
            for name in benchmark_names():
                if name in ("sat3", "bbeh_mini"):
                    continue
                for problem in load_problems(name):
                    index.setdefault(_longest_line(problem.text), []).append(problem)
            _line_index = index
        return _line_index


def identify(text: str) -> Known:
    """Find the benchmark problem a prompt is about: a shipped one, or one of a person's datasets that a
    run in this process loaded (:mod:`egur_core.evals.datasets.recent`)."""
    return _identify(text, recent.version())


@lru_cache(maxsize=4096)
def _identify(text: str, _index_version: int) -> Known:
    if "p cnf" in text:
        sat = problem_from_text(text)
        if sat is not None:
            return Known(key=sat.id, family="sat", problem=sat)
    index = _shipped_index()
    for line in text.splitlines():
        for problem in [*index.get(line.strip(), ()), *recent.problems_for_line(line)]:
            if problem.text.strip() in text or problem.meta.get("raw_problem", "\0") in text:
                return Known(key=_key(problem), family=_family(problem), problem=problem)
    return Known(key=hashlib.sha256(text.encode()).hexdigest()[:16], family=_guess_family(text), problem=None)


def _key(problem: Problem) -> str:
    """Shipped ids are unique; a person's ids are unique within their dataset only."""
    return f"{problem.benchmark}/{problem.id}" if problem.family == "user" else problem.id


def _family(problem: Problem) -> str:
    return _guess_family(problem.text) if problem.family == "user" else problem.family


def _guess_family(text: str) -> str:
    lowered = text.lower()
    if "how many" in lowered:
        return "counting"
    if any(word in lowered for word in ("sort", "alphabetical")):
        return "sorting"
    return "other"


def is_correct(known: Known, answer_text: str) -> bool:
    if known.problem is None:
        return False
    return score_prediction(answer_text, known.problem)


def right_answer(known: Known) -> str:
    if known.problem is None:
        return "42"
    return known.problem.answer


def wrong_answer(known: Known, rng: random.Random) -> str:
    """A plausible wrong answer: half the time the problem's "common mistake", else a random one."""
    common = random.Random("common|" + known.key)
    source = common if rng.random() < 0.5 else rng
    gold = right_answer(known)
    if known.family == "sat" and known.problem is not None:
        return _wrong_sat(known.problem, source)
    stripped = gold.strip()
    if stripped.lstrip("-").isdigit():
        offset = source.choice([-3, -2, -1, 1, 2, 3, 10])
        return str(int(stripped) + offset)
    if "," in stripped:
        items = [item.strip() for item in stripped.split(",")]
        if len(items) > 1:
            i = source.randrange(len(items) - 1)
            items[i], items[i + 1] = items[i + 1], items[i]
            return ", ".join(items)
    return source.choice(["No", "unknown", "0", "1", "yes"]) if stripped not in ("No",) else "3"


def _wrong_sat(problem: Problem, rng: random.Random) -> str:
    if not problem.meta.get("satisfiable"):
        n = problem.meta.get("n", 3)
        return "SAT: " + " ".join(str(v if rng.random() < 0.5 else -v) for v in range(1, n + 1))
    if rng.random() < 0.4:
        return "UNSAT"
    literals = [int(x) for x in problem.answer.split(":", 1)[1].split()]
    for _ in range(3):
        i = rng.randrange(len(literals))
        literals[i] = -literals[i]
    candidate = "SAT: " + " ".join(map(str, literals))
    return candidate if not score_prediction(candidate, problem) else "UNSAT"


def answer_in(text: str) -> str:
    return extract_final_answer(text)
