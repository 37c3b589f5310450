"""A demo memory file: EGuR and a chain-of-thought baseline compared on the simulated model.

What a newcomer (and the dashboard's tests and screenshots) needs to see every page with genuine
content and no key: a real comparison through the same harness as ``egur bench``, so the file
holds real strategies, traces, library entries, notes, an audit log and a baseline to compare
with. Everything in it is labelled simulated.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from egur_core.app.services import build_client, open_memory
from egur_core.evals.comparison import BenchConfig, run_bench
from egur_core.llm.config import simulated_settings
from egur_core.memory.database import close_idle_files

COMPARISON = "demo-comparison"


def build_demo(path: str | Path, n: int = 15, benchmark: str = "sat3", k: int = 3, seed: int = 0) -> str:
    """Fill ``path`` with the demo comparison; returns the EGuR run's id."""
    memory = open_memory(path)
    config = BenchConfig(benchmark=benchmark, n=n, k=k, seeds=[seed], methods=["egur", "cot"], cache=False,
                         egur_memory="shared", comparison_id=COMPARISON, label="demo")
    with ThreadPoolExecutor(1) as pool:  # its own thread: callers may own a running event loop (playwright)
        result = pool.submit(run_bench, memory, lambda s: simulated_settings(seed=s), config, build_client).result()
    close_idle_files()  # the file lingers open briefly; callers copy it or hand it to a server
    return next(r.run_id for r in result.runs if r.method == "egur")
