r"""AIME 2025 (and 2024 as a warm-up split), from MathArena's copy of the problems.

Problems are (c) MAA; MathArena's files are MIT. Research evaluation only. Prompt and scoring
follow MathArena: the problem plus its `\boxed{}` suffix; the last `\boxed{}`/`\fbox{}` is parsed
as an integer, falling back (non-strict mode) to the last integer in the text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from egur_core.evals.datasets.base import Problem, as_text, benchmarks_dir, seeded_sample
from egur_core.runtime.answers import boxed_contents, last_boxed

AIME_SUFFIX = "Put your final answer within \\boxed{}. The answer is an integer between 0 and 999 inclusive."
YEARS = (2024, 2025)

_LAST_INT_RE = re.compile(r"\b\d+\b")  # MathArena's non-strict fallback pattern
_INT_RE = re.compile(r"[+-]?\d+(?:\.0*)?")
_WRAPPERS_RE = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_NOISE = ("\\left", "\\right", "\\,", "\\!", "\\;", "\\ ", "$", "^\\circ", "^{\\circ}", "\\%", "%", " ")


@lru_cache(maxsize=8)
def _read_rows(year: int) -> tuple[dict, ...]:
    path = benchmarks_dir() / "aime" / f"aime{year}.jsonl"
    with open(path, encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def _problem_id(row: dict, year: int) -> str:
    """`aime_2025_I_3` -> `aime2025-I-3` (the id style used across EGuR)."""
    part = str(row.get("contest", "")).split()[-1] if row.get("contest") else "I"
    return f"aime{year}-{part}-{int(row['number'])}"


def aime_problems(year: int) -> list[Problem]:
    """All 30 problems of one year in contest order (I-1..I-15, II-1..II-15)."""
    problems = []
    for row in _read_rows(year):
        meta = {
            "contest": row.get("contest"),
            "number": row.get("number"),
            "source_id": row.get("id"),
            "raw_problem": row["problem"],
        }
        if row.get("image"):
            meta["image"] = f"benchmarks/aime/{row['image']}"  # relative to the data dir
        problems.append(
            Problem(
                id=_problem_id(row, year),
                benchmark=f"aime{year}",
                family="math",
                text=f"{row['problem']}\n\n{AIME_SUFFIX}",
                answer=str(int(row["answer"])),
                meta=meta,
            )
        )
    return problems


def parse_integer(answer: str) -> int | None:
    r"""Parse a boxed answer as an integer, tolerating harmless LaTeX (`\text{}`, `^\circ`, `$`,
    `x = 70`, `070`, `70.0`). Anything else (fractions, expressions) is not an integer: None."""
    s = answer
    for _ in range(3):
        s = _WRAPPERS_RE.sub(r"\1", s)
    for noise in _NOISE:
        s = s.replace(noise, "")
    if boxed_contents(s):
        s = last_boxed(s) or s
    s = s.split("=")[-1].strip().strip("{}")
    if len(s) > 1000 or not _INT_RE.fullmatch(s):
        return None
    return int(s.split(".")[0])


def extract_aime_answer(prediction: str) -> int | None:
    r"""MathArena's extraction: last `\boxed{}`/`\fbox{}` if any (parsed as an integer), else the
    last integer in the text (non-strict mode). A box that is not an integer gives None."""
    text = as_text(prediction)
    boxed = last_boxed(text)
    if boxed is not None:
        return parse_integer(boxed)
    matches = _LAST_INT_RE.findall(text)
    if not matches or len(matches[-1]) > 1000:  # huge digit runs: int() would refuse them anyway
        return None
    return int(matches[-1])


def gold_integer(answer: str) -> int | None:
    """Gold keys compare as integers (2024 answers.csv has `025`-style leading zeros)."""
    try:
        return int(str(answer).strip())
    except ValueError:
        return None


def score_aime(prediction: str, problem: Problem) -> bool:
    """Exact integer match between the extracted answer and the gold key; never raises."""
    try:
        got = extract_aime_answer(prediction)
        gold = gold_integer(problem.answer)
        return got is not None and gold is not None and got == gold
    except Exception:  # scoring must not crash a run
        return False


class AIMEBenchmark:
    """AIME of one year (30 integer-answer problems)."""

    verifier = None  # no label-free check of an answer

    def __init__(self, year: int) -> None:
        if year not in YEARS:
            raise ValueError(f"no AIME {year} data; available years: {list(YEARS)}")
        self.year = year
        self.name: str = f"aime{year}"
        self.family: str = "math"
        self.description: str = f"AIME {year} I+II (30 problems, integer answers 0-999; (c) MAA, via MathArena)"

    def __repr__(self) -> str:
        return f"AIMEBenchmark({self.year})"

    def load(self, n: int | None = None, seed: int = 0) -> list[Problem]:
        return seeded_sample(aime_problems(self.year), n, seed, self.name)

    def score(self, prediction: str, problem: Problem) -> bool:
        return score_aime(prediction, problem)
