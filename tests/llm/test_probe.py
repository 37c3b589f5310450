"""The "test connection" probe reports what an endpoint can do."""

from __future__ import annotations

import asyncio

from egur_core.llm import LLMClient
from tests.fakes.openai_server import FakeOpenAIServer, settings_for
from tests.llm import run_with_client


def test_probe_reports_models_mode_embeddings_and_usage():
    with FakeOpenAIServer("json_object_only") as server:
        report = run_with_client(server, lambda c: c.probe(), embedding_model="emb-small")
    assert report["ok"] is True and report["error"] is None
    assert report["models"] == ["fake-mini", "fake-pro"]
    assert report["structured_mode"] == "json_object"
    assert report["embeddings"] is True and report["usage_reported"] is True
    assert report["latency_s"] >= 0


def test_probe_reports_missing_embeddings_and_usage():
    with FakeOpenAIServer({"text_only", "no_embeddings", "no_usage"}) as server:
        report = run_with_client(server, lambda c: c.probe(), embedding_model="emb-small")
    assert report["ok"] is True
    assert report["structured_mode"] == "text"
    assert report["embeddings"] is False and report["usage_reported"] is False


def test_probe_of_unreachable_endpoint_is_not_ok_with_an_error():
    with FakeOpenAIServer("strict") as server:
        settings = settings_for(server, max_retries=0)

    async def main():
        client = LLMClient(settings)
        try:
            return await client.probe()
        finally:
            await client.aclose()

    report = asyncio.run(main())
    assert report["ok"] is False and report["models"] is None
    assert "could not connect" in report["error"]


def test_probe_of_unknown_endpoint_says_so():
    with FakeOpenAIServer("strict") as server:
        report = run_with_client(server, lambda c: c.probe("nope"))
    assert report["ok"] is False and "unknown endpoint 'nope'" in report["error"]
