"""Benchmarks for EGuR: seeded 3-SAT, BIG-Bench Extra Hard tasks, AIME 2025/2024, and a person's own datasets.

Shipped benchmarks come from the registry: `get_benchmark(name).load(n, seed)` gives `Problem`s and
`.score(pred, p)` applies the benchmark's official rule. Data lives in `data/benchmarks/` (override the
data folder with the `EGUR_DATA_DIR` environment variable). Datasets a person adds (JSONL, CSV,
Parquet; :mod:`stored`) live in the memory file with their scorer (:mod:`scorers`, :mod:`judge`) and
optional sandboxed verifier (:mod:`verifier`); :mod:`catalog` lists and resolves both kinds, and is
what runs, comparisons and pickers use.
"""

from egur_core.evals.datasets.base import Benchmark, Problem, data_dir
from egur_core.evals.datasets.registry import (
    benchmark_names,
    find_problem_by_text,
    get_benchmark,
    load_problems,
    score_prediction,
)
from egur_core.runtime.answers import extract_final_answer

__all__ = [
    "Benchmark",
    "Problem",
    "benchmark_names",
    "data_dir",
    "extract_final_answer",
    "find_problem_by_text",
    "get_benchmark",
    "load_problems",
    "score_prediction",
]
