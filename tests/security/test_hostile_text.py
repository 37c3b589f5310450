"""Hostile text from a model or a file is stored safely: lone surrogates, formulas in CSV, keys in URLs."""

from __future__ import annotations

import asyncio

import duckdb
import pytest

from egur_core.app.services import build_client, build_tools
from egur_core.llm.json_repair import extract_json
from egur_core.memory.ops import AddNote
from egur_core.memory.records import ExecutionRecord
from egur_core.memory.store import MemoryStore
from egur_core.runtime.engine import Runtime
from egur_core.strategy.model import Strategy
from tests.fakes.openai_server import FakeOpenAIServer, settings_for

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
