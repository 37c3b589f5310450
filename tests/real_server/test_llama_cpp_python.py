"""EGuR against a real llama-cpp-python server (a tiny random-weight model): the real thing, not an imitation.

The model's words are noise, so what is tested is the path a small local model takes: the server refuses
``json_schema`` with HTTP 500, the client steps down to ``json_object`` with the strategy schema, the
server decodes under that grammar, and every problem still gets an answer.
"""

from __future__ import annotations

import asyncio
import json

import duckdb
import pytest
from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf
from pydantic import BaseModel

from egur_core.app.services import build_client, resolve_settings
from egur_core.llm import CallRecord
from egur_core.llm.schema import plain_schema
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.consolidator import ConsolidatorReply
from egur_core.reasoner.guide import GuideReplySchema, guide_messages
from egur_core.reasoner.loop import LoopConfig
from tests.real_server.conftest import MODEL
from tests.reasoner.loop_runner import run_loop

pytestmark = [pytest.mark.real_server, pytest.mark.timeout(900)]


def settings_for(url: str):
    settings = resolve_settings(MODEL, url)
    settings.endpoints["default"].max_retries = 1
    settings.endpoints["default"].timeout_s = 300
    return settings


@pytest.mark.parametrize("reply", [GuideReplySchema, ConsolidatorReply], ids=lambda r: r.__name__)
def test_every_reply_schema_becomes_a_llama_cpp_grammar(reply: type[BaseModel]):
    """The server falls back to "any JSON" when its converter refuses a schema, so refusal must not happen."""
    grammar = json_schema_to_gbnf(json.dumps(plain_schema(reply)))
    assert LlamaGrammar.from_string(grammar, verbose=False) is not None


def test_json_schema_is_refused_and_json_object_with_the_schema_decodes_a_valid_guide_reply(llama_server):
    records: list[CallRecord] = []

    async def ask():
        client = build_client(settings_for(llama_server), on_call=records.append)
        try:
            messages = guide_messages("p cnf 3 1\n1 2 3 0", 2, [], [], [], [])
            return await client.structured(messages, GuideReplySchema, alias="guide", role="guide",
                                           max_tokens=800, wire=GuideReplySchema)
        finally:
            await client.aclose()

    reply = asyncio.run(ask())
    assert reply.mode == "json_object_schema" and reply.value is not None  # valid by construction
    assert [r.structured_mode for r in records if not r.ok] == ["json_schema_strict", "json_schema"]  # no retries
    assert "json_schema rejected -> json_object+schema" in reply.negotiation[-1]


def test_every_problem_is_answered_on_a_real_server(llama_server):
    store = MemoryStore(duckdb.connect(":memory:"))
    _, outcomes = run_loop(store, LoopConfig(benchmark="sat3", n=2, k=2, seed=1),
                           settings=settings_for(llama_server))
    assert len(outcomes) == 2 and all(o.answer is not None and o.failure is None for o in outcomes)
    assert store.list_runs().iloc[0]["status"] == "finished"
    problems = store.problem_rows(store.list_runs()["run_id"][0])
    assert (problems["tokens_guide_in"] > 0).all() and not problems["error"].str.contains("Traceback").any()
