"""Your own datasets at scale: adding a 100,000-row JSONL file, and the Run page's picker with 50 datasets.

    python perf/bench_datasets.py [--rows 100000] [--datasets 50] [--repeats 3]

1. Writes a JSONL file of ``--rows`` rows (id, a 150-250 character problem, an answer, two metadata
   columns) and adds it to a fresh memory file in a fresh process, ``--repeats`` times: wall time of
   ``add_dataset`` (hash, read, checks, insert, commit) and the process's peak resident memory
   (``ru_maxrss``; it includes the interpreter and its libraries, printed apart as "baseline").
   Targets: under 10 s and under 500 MB.
2. Adds ``--datasets`` small datasets next to the big one, serves the app, and times the Run page in
   Debian's chromium: clicking its sidebar link until the script is done with the picker drawn
   (first visit and median of warm ones), then opening the picker until its options are listed.
   Also times the picker's query alone (``benchmark_options``' catalog). Target: under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from egur_core.app.datasets import add_file, picker  # noqa: E402
from egur_core.app.services import open_memory  # noqa: E402
from egur_core.evals.datasets.stored import DatasetSpec  # noqa: E402
from tests.e2e.conftest import CHROMIUM, READY, serve_app  # noqa: E402

ADD_TARGET_S, MEMORY_TARGET_MB, PICKER_TARGET_S = 10.0, 500.0, 1.0
WORDS = ("apple banana carrot delta echo foxtrot garden harbor island jungle kettle lemon mango night ocean "
         "pepper quartz river sunset tiger umbrella violet window yellow zebra").split()
CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from egur_core.app.datasets import add_file
from egur_core.app.services import open_memory
from egur_core.evals.datasets.stored import DatasetSpec
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
memory = open_memory({db!r})
started = time.perf_counter()
with memory.session() as store:
    added = add_file(store, {path!r}, DatasetSpec(name="big"))
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rows": added.rows, "baseline_mb": baseline,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_jsonl(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 40)))
            handle.write(json.dumps({"id": f"r{i}", "problem": f"Problem {i}: how many words in '{text}'?",
                                     "answer": str(len(text.split())), "topic": rng.choice(WORDS),
                                     "difficulty": rng.random()}) + "\n")


def measure_add(path: Path, scratch: Path, repeats: int) -> list[dict]:
    runs = []
    for i in range(repeats):
        db = scratch / f"add-{i}.duckdb"
        out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), db=str(db), path=str(path))],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def fill(db: Path, big: Path, scratch: Path, datasets: int) -> None:
    small = scratch / "small.jsonl"
    write_jsonl(small, 200, seed=1)
    with open_memory(db).session() as store:
        add_file(store, big, DatasetSpec(name="big"))
        for i in range(datasets - 1):
            add_file(store, small, DatasetSpec(name=f"set-{i:02d}"))


def time_picker_query(db: Path, repeats: int) -> float:
    times = []
    with open_memory(db).session() as store:
        for _ in range(repeats):
            started = time.perf_counter()
            picker(store)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_run_script(db: Path, repeats: int = 15) -> dict[str, float]:
    """The Run page's script alone (AppTest, no browser): first render and the median of later ones."""
    os.environ["EGUR_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/run.py")
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return {"first": first, "warm": statistics.median(times), "options": len(at.selectbox(key="benchmark").options)}


def time_run_page(url: str, repeats: int, datasets: int) -> dict[str, float]:
    """Sidebar click to Run (script done, picker drawn), first and warm; then opening the picker."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**CHROMIUM)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{url}/results")
        page.wait_for_selector(READY, timeout=60_000)
        visits, opens = [], []
        for _ in range(repeats + 1):
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Results").click()
            page.wait_for_selector(READY, timeout=60_000)
            started = time.perf_counter()
            page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Run", exact=True).click()
            page.locator(".st-key-benchmark").wait_for(timeout=60_000)
            page.wait_for_selector(READY, timeout=60_000)
            visits.append(time.perf_counter() - started)
            started = time.perf_counter()
            page.locator(".st-key-benchmark").get_by_role("combobox").click()
            options = page.get_by_role("option")
            options.first.wait_for(timeout=10_000)
            opens.append(time.perf_counter() - started)
            page.keyboard.press("Escape")
        browser.close()
    return {"first": visits[0], "warm": statistics.median(visits[1:]), "open": statistics.median(opens)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egur-bench-datasets-") as folder:
        scratch = Path(folder)
        big = scratch / "big.jsonl"
        write_jsonl(big, args.rows)
        size_mb = big.stat().st_size / 1024**2
        adds = measure_add(big, scratch, args.repeats)
        seconds = statistics.median(a["seconds"] for a in adds)
        peak = max(a["peak_mb"] for a in adds)
        print(f"add {args.rows:,} rows ({size_mb:.1f} MB JSONL): median {seconds:.2f} s over {args.repeats} "
              f"(target {ADD_TARGET_S:.0f} s); peak RSS {peak:.0f} MB (target {MEMORY_TARGET_MB:.0f} MB; "
              f"baseline after imports {adds[0]['baseline_mb']:.0f} MB)")
        db = scratch / "picker.duckdb"
        fill(db, big, scratch, args.datasets)
        query = time_picker_query(db, 20)
        script = time_run_script(db)
        with serve_app(db) as url:
            page = time_run_page(url, args.repeats, args.datasets)
        print(f"Run page with {args.datasets} datasets stored ({args.rows:,} rows in one; {script['options']} "
              f"options): picker query {query * 1000:.1f} ms; script alone (AppTest) first {script['first']:.2f} s, "
              f"warm {script['warm']:.3f} s; in chromium first {page['first']:.2f} s, warm {page['warm']:.2f} s; "
              f"opening the picker {page['open']:.2f} s (target {PICKER_TARGET_S:.0f} s); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ok = seconds < ADD_TARGET_S and peak < MEMORY_TARGET_MB and page["warm"] < PICKER_TARGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
