"""Retrieval latency with a large library: 100,000 entries, top-10 by cosine similarity.

    python perf/bench_retrieval.py [--entries 100000] [--queries 50] [--db PATH]

Fills a DuckDB file through one Arrow batch insert (seconds, not minutes), then times
``MemoryStore.retrieve`` (embedding the query + SQL top-k + strategy join + pydantic models) and
the bare SQL, reporting median and p95. Target: median <= 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from egur_core.memory.embedding import LOCAL_EMBEDDING_DIM, local_embedding  # noqa: E402
from egur_core.memory.records import utcnow  # noqa: E402
from egur_core.memory.store import MemoryStore  # noqa: E402
from egur_core.strategy.model import Strategy  # noqa: E402

RANKED_IN_DUCKDB = """
    SELECT entry_id, coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1)
           AS similarity
    FROM library WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')
    ORDER BY similarity DESC, entry_id LIMIT $k"""
WORDS = ("count objects sat clause variable integer triangle probability sequence modulo prime graph "
         "colour apple book chair list sum product remainder digit equation").split()


def fill(store: MemoryStore, n: int, seed: int = 0) -> float:
    """Insert ``n`` entries with random unit embeddings in one Arrow batch; return seconds taken."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    hashes = []
    for i in range(20):
        strategy = Strategy.model_validate({"name": f"s{i}", "steps": [
            {"id": "a", "op": "llm", "prompt": "{problem}", "out": "x", "temperature": i / 20},
            {"id": "f", "op": "answer", "from": "x"}]})
        hashes.append(store.save_strategy(strategy))
    vectors = rng.standard_normal((n, store.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    now = utcnow()
    table = pa.table({
        "entry_id": pa.array(np.arange(1, n + 1), pa.int64()),
        "signature": [" ".join(rng.choice(WORDS, 8)) for _ in range(n)],
        "strategy_hash": [hashes[i % len(hashes)] for i in range(n)],
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), store.dim),
        "benchmark": [""] * n, "created_at": [now] * n, "updated_at": [now] * n,
    })
    store.insert_frame("library", table)
    store.checkpoint()
    return time.perf_counter() - start


def timed(fn, queries: list[str]) -> list[float]:
    fn(queries[0])  # warm-up
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, ms: list[float]) -> float:
    median = statistics.median(ms)
    p95 = statistics.quantiles(ms, n=20)[-1]
    print(f"{name:<34} median {median:7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--db", help="DuckDB file (default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(args.db or str(Path(tmp) / "bench.duckdb"))
        store = MemoryStore(con, max_entries=args.entries + 1)
        print(f"fill {args.entries:,} entries (dim {LOCAL_EMBEDDING_DIM}): {fill(store, args.entries):.1f} s")
        rng = np.random.default_rng(1)
        queries = [" ".join(rng.choice(WORDS, 12)) for _ in range(args.queries)]
        sql = RANKED_IN_DUCKDB.format(dim=store.dim)
        embedded = {q: local_embedding(q) for q in queries}
        report("SQL top-10 only", timed(lambda q: store.query(
            sql, {"q": embedded[q], "bench": None, "k": 10}), queries))
        report("embed query only", timed(local_embedding, queries))
        median = report("retrieve(k_entries=10, k_notes=5)", timed(
            lambda q: store.retrieve(q, k_entries=10, k_notes=5, min_similarity=-1.0), queries))
        print(f"target median <= 50 ms: {'met' if median <= 50 else 'MISSED'}")
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
