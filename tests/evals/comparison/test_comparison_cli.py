"""``egur bench`` and ``egur report`` end to end on a temporary memory file (simulated model)."""

from __future__ import annotations

import json
import re

import pytest

from egur_core.app.services import open_memory
from egur_core.cli import main
from egur_core.strategy.roles import ROLES


def sql(db, query: str, params: list) -> list[tuple]:
    """Read through the same memory file sessions the CLI uses (the file may still be open in-process)."""
    with open_memory(db).session() as store:
        return [tuple(row.values()) for row in store.query(query, params)]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    db, report = tmp / "m.duckdb", tmp / "r.json"
    code = main(["bench", "--benchmark", "sat3", "--n", "4", "--methods", "egur,cot,sc,dc,mem0,static",
                 "--static-warmup", "2", "--sc-n", "3", "--db", str(db), "--report", str(report), "--quiet"])
    assert code == 0
    return db, json.loads(report.read_text())


def stored_sums(db, run_id: str) -> dict:
    (row,) = sql(db, """SELECT count(*), avg(correct::INT), sum(cost_usd), sum(calls),
            sum(tokens_guide_in + tokens_guide_out + tokens_executor_in + tokens_executor_out
                + tokens_consolidator_in + tokens_consolidator_out), sum(cost_consolidator), sum(cost_guide)
            FROM problems WHERE run_id = ?""", [run_id])
    return dict(zip(["n", "accuracy", "cost", "calls", "tokens", "consolidator", "guide"], row))


def test_table_equals_the_stored_per_problem_records(bench):
    db, report = bench
    assert [row["method"] for row in report["table"]] == ["egur", "cot", "sc", "dc", "mem0", "static"]
    for row in report["table"]:
        sums = stored_sums(db, row["run_ids"][0])
        assert sums["n"] == row["problems"] == 4
        assert row["accuracy"] == pytest.approx(sums["accuracy"])
        assert row["cost_usd"] == pytest.approx(sums["cost"])
        assert row["calls"] == sums["calls"] and row["tokens"] == sums["tokens"]
        if row["method"] != "egur":
            assert sums["guide"] == 0  # baselines have no guide
        if row["method"] in ("dc", "mem0"):
            assert sums["consolidator"] > 0  # curator / extractor billed as memory upkeep
    run = next(r for r in report["runs"] if r["method"] == "cot")
    assert len(run["problems"]) == 4 and set(run["problems"][0]["cost_usd"]) == set(ROLES)


def test_runs_share_a_comparison_id_with_their_method(bench):
    db, report = bench
    rows = sql(db, "SELECT method, count(*) FROM runs WHERE comparison_id = ? GROUP BY 1 ORDER BY 1",
               [report["comparison_id"]])
    ((execs,),) = sql(db, "SELECT count(*) FROM executions e JOIN runs r USING (run_id) WHERE r.method = 'egur' "
                      "AND r.comparison_id = ?", [report["comparison_id"]])
    assert rows == [(m, 1) for m in sorted(["egur", "cot", "sc", "dc", "mem0", "static"])]
    assert execs >= 4  # EGuR ran in a fresh scratch memory; its records were copied in


def test_static_chose_on_warmup(bench):
    _, report = bench
    static = next(r for r in report["runs"] if r["method"] == "static")
    assert static["info"]["chosen"] == "cnf-to-solver" and len(static["info"]["warmup_problems"]) == 2


def test_report_is_self_contained_html(bench, tmp_path, capsys):
    db, report = bench
    out = tmp_path / "r.html"
    assert main(["report", report["comparison_id"], "--db", str(db), "--out", str(out)]) == 0
    html = out.read_text()
    assert not re.search(r"<script[^>]+src=[\"']?https?:", html, re.I)
    assert "Plotly.newPlot" in html or "newPlot" in html
    assert html.count("class=dot") == 6 and "Accuracy so far vs dollars spent" in html
    assert "<title>EGuR vs baselines on sat3" in html
    assert main(["report", "no-such-run", "--db", str(db), "--out", str(out)]) == 2
    assert "`egur runs` lists the runs" in capsys.readouterr().err


def test_replay_from_cache_and_no_cache(bench, capsys):
    db, _ = bench
    args = ["bench", "--benchmark", "sat3", "--n", "4", "--methods", "cot,dc", "--db", str(db), "--quiet"]
    capsys.readouterr()
    assert main(args) == 0
    replay = capsys.readouterr().out
    assert re.search(r"^cot .* 4 +0\.0000", replay, re.M)  # 4 cached requests, $0 spent
    assert main(args + ["--no-cache"]) == 0
    fresh = capsys.readouterr().out
    assert re.search(r"^cot .* 0 +0\.0\d*[1-9]", fresh, re.M)  # paid again
    assert main(["cache", "stats", "--db", str(db)]) == 0
    assert "dc" in capsys.readouterr().out
    assert main(["cache", "clear", "--namespace", "cot", "--db", str(db)]) == 0


def test_seeds_and_warmup_protocol(tmp_path, capsys):
    db = tmp_path / "m.duckdb"
    report = tmp_path / "r.json"
    assert main(["bench", "--benchmark", "bbeh:multistep_arithmetic", "--n", "2", "--methods", "dc,cot",
                 "--seeds", "0,1", "--warmup", "2", "--db", str(db), "--report", str(report), "--quiet",
                 "--no-cache"]) == 0
    data = json.loads(report.read_text())
    assert {(r["method"], r["seed"]) for r in data["runs"]} == {("dc", 0), ("dc", 1), ("cot", 0), ("cot", 1)}
    dc = [r for r in data["runs"] if r["method"] == "dc"]
    assert all(r["warmup_run_id"] for r in dc)  # memory methods warm up; their cheatsheet carries over
    assert "±" in capsys.readouterr().out
    versions = sql(db, "SELECT scope, max(version) FROM cheatsheet_versions GROUP BY 1", [])
    assert len(versions) == 2 and all(v == 4 for _, v in versions)  # 2 warm-up + 2 evaluated, per seed
