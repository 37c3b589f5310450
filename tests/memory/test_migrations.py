from __future__ import annotations

import duckdb

from egur_core.memory.migrations import MIGRATIONS, migrate, schema_version
from egur_core.memory.store import MemoryStore
from tests.memory import keyword_embed, strategy_dict


def build_v1_file(path: str) -> None:
    """A file as version 1 of the schema left it, with a library entry and an op in it."""
    con = duckdb.connect(path)
    migrate(con, 256, target=1)
    con.execute("""INSERT INTO strategies VALUES ('h1', 'cot', 'workflow', '', ?, NULL, 'guide', now())""",
                ['{"name": "cot", "steps": [{"id": "a", "op": "answer", "from": "problem"}]}'])
    con.execute("INSERT INTO library (entry_id, signature, strategy_hash, created_at, updated_at) "
                "VALUES (7, 'old entry', 'h1', now(), now())")
    con.execute("INSERT INTO memory_ops (op_id, ts, actor, kind, payload, \"before\", \"after\") "
                "VALUES (1, now(), 'person', 'add_entry', '{}', '{}', '{}')")
    con.close()


def test_opening_a_v1_file_upgrades_it_and_keeps_its_rows(tmp_path) -> None:
    path = str(tmp_path / "old.duckdb")
    build_v1_file(path)
    con = duckdb.connect(path)
    store = MemoryStore(con)
    assert schema_version(con) == len(MIGRATIONS)
    assert store.list_entries()["signature"].tolist() == ["old entry"]
    assert store.op_log()["batch_id"].isna().all()  # column added by migration 3
    store.create_run(benchmark="sat", comparison_id="cmp-1")  # column added by migration 3
    assert store.retrieve("x").notes == []  # retrievals / notes usable


def test_a_fresh_store_records_every_migration_once() -> None:
    con = duckdb.connect(":memory:")
    MemoryStore(con)
    MemoryStore(con)
    versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
    assert versions == [m.version for m in MIGRATIONS]


def test_a_new_embedder_dimension_reembeds_existing_items(tmp_path) -> None:
    path = str(tmp_path / "m.duckdb")
    con = duckdb.connect(path)
    MemoryStore(con).apply({"op": "add_entry", "signature": "sat sat", "strategy": strategy_dict()}, "person")
    store = MemoryStore(con, embed=keyword_embed)
    assert store.dim == 4
    assert store.retrieve("sat", k_entries=1).entries[0].similarity > 0.9


def test_problems_recorded_before_the_judge_role_read_as_costing_nothing_for_it(tmp_path) -> None:
    path = str(tmp_path / "v8.duckdb")
    con = duckdb.connect(path)
    migrate(con, 256, target=8)
    con.execute("INSERT INTO runs (run_id, created_at, benchmark) VALUES ('r', now(), 'sat3')")
    con.execute("INSERT INTO problems (run_id, idx, cost_guide, finished_at) VALUES ('r', 0, 0.5, now())")
    con.close()
    store = MemoryStore(duckdb.connect(path))
    row = store.problem_rows("r").iloc[0]
    assert row["cost_judge"] == 0 and row["tokens_judge_in"] == 0 and row["cost_guide"] == 0.5
