"""Name -> benchmark lookup, problem loading, and exact text lookup of shipped problems.

Names: `sat3`, `bbeh:<task>` for every task folder present in data/benchmarks/bbeh/, `bbeh_mini`,
`aime2025`, `aime2024`.
"""

from __future__ import annotations

import hashlib
import threading

from egur_core.evals.datasets.aime import YEARS, AIMEBenchmark
from egur_core.evals.datasets.base import Benchmark, LabelGrader, Problem, as_task, as_text, data_dir
from egur_core.evals.datasets.bbeh import BBEHMini, BBEHTask, available_tasks, mini_problems
from egur_core.evals.datasets.sat3 import Sat3Benchmark
from egur_core.evals.datasets.scorers import SCORER_KEY, ScorerSpec, same_answer, score
from egur_core.reasoner.task import Workload
from egur_core.runtime.answers import extract_final_answer

__all__ = [
    "benchmark_names",
    "extract_final_answer",
    "find_problem_by_text",
    "get_benchmark",
    "load_problems",
    "score_prediction",
    "workload",
]


def benchmark_names() -> list[str]:
    """Every valid name, in a stable order (sat3, bbeh tasks, bbeh_mini, AIME newest first)."""
    names = ["sat3"] + [f"bbeh:{task}" for task in available_tasks()] + ["bbeh_mini"]
    return names + [f"aime{year}" for year in sorted(YEARS, reverse=True)]


def _normalise(name: str) -> str:
    """Accept harmless spellings: surrounding spaces, upper case, `bbeh:bbeh_<task>`, `bbeh_<task>`."""
    name = name.strip().lower()
    if name.startswith("bbeh:bbeh_"):
        return "bbeh:" + name[len("bbeh:bbeh_") :]
    if name.startswith("bbeh_") and name != "bbeh_mini":
        return "bbeh:" + name[len("bbeh_") :]
    return name


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called `name`; ValueError listing the valid names otherwise."""
    key = _normalise(name) if isinstance(name, str) else ""
    if key == "sat3":
        return Sat3Benchmark()
    if key == "bbeh_mini":
        return BBEHMini()
    if key.startswith("aime") and key[4:].isdigit() and int(key[4:]) in YEARS:
        return AIMEBenchmark(int(key[4:]))
    if key.startswith("bbeh:") and key[5:] in available_tasks():
        return BBEHTask(key[5:])
    raise ValueError(
        f"unknown benchmark {name!r}; valid names: {', '.join(benchmark_names())} "
        f"(BBEH tasks are the bbeh_<task>/task.json folders under {data_dir() / 'benchmarks' / 'bbeh'})"
    )


def load_problems(name: str, n: int | None = None, seed: int = 0) -> list[Problem]:
    """Shortcut for `get_benchmark(name).load(n, seed)`."""
    return get_benchmark(name).load(n, seed)


def workload(name: str, n: int | None = None, seed: int = 0, problems: list[Problem] | None = None) -> Workload:
    """The tasks a method is given (``problems``, or the benchmark's first ``n`` for ``seed``), with the
    grader that alone holds their labels and the benchmark's label-free verifier (if it has one)."""
    benchmark = get_benchmark(name)
    problems = problems if problems is not None else benchmark.load(n, seed)
    return Workload(benchmark=name, tasks=[as_task(p) for p in problems],
                    grader=LabelGrader(problems, score_prediction), verifier=benchmark.verifier)


def score_prediction(prediction: str, problem: Problem) -> bool:
    """Score with the official rule of the problem's own benchmark (mixed lists, bbeh_mini), or with the
    scorer a stored dataset named (a judge-scored one by the lenient rule: no model is at hand here)."""
    rule = problem.meta.get(SCORER_KEY)
    if isinstance(rule, dict):
        spec = ScorerSpec.model_validate(rule)
        if spec.kind == "judge":
            return same_answer(prediction, problem.answer)
        return score(spec, prediction, problem.answer)
    try:
        return get_benchmark(problem.benchmark).score(prediction, problem)
    except ValueError:
        return False


# --- exact text lookup (oracle for the offline simulated model) -----------------------------

_index_lock = threading.Lock()
_index: dict[tuple[str, str], dict[str, Problem]] = {}


def _key(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()


def _build_index() -> dict[str, Problem]:
    """sha256(stripped text) -> Problem over all shipped BBEH tasks, BBEH Mini and AIME.

    AIME problems are indexed both with and without MathArena's suffix, so a strategy that
    re-wraps the bare problem is still recognised."""
    index: dict[str, Problem] = {}
    sources: list[Problem] = []
    for task in available_tasks():
        sources += BBEHTask(task).load(None)
    sources += mini_problems()
    for year in YEARS:
        sources += AIMEBenchmark(year).load(None)
    for problem in sources:
        index.setdefault(_key(problem.text), problem)
        raw = problem.meta.get("raw_problem")
        if isinstance(raw, str):
            index.setdefault(_key(raw), problem)
    return index


def _current_index() -> dict[str, Problem]:
    """Lazily built once per (data dir, task set); rebuilt if EGUR_DATA_DIR or the tasks change."""
    cache_key = (str(data_dir()), ",".join(available_tasks()))
    with _index_lock:
        if cache_key not in _index:
            _index[cache_key] = _build_index()
        return _index[cache_key]


def find_problem_by_text(text: str) -> Problem | None:
    """The shipped BBEH/AIME problem whose text is exactly `text` (surrounding whitespace
    ignored), as a copy so callers cannot corrupt the cache; None when unknown or on bad input."""
    text = as_text(text)
    if not text.strip():
        return None
    try:
        problem = _current_index().get(_key(text))
    except (OSError, ValueError):
        return None
    return problem.model_copy(deep=True) if problem is not None else None
