"""Tests of egur_core.llm; shared helpers live here so test modules stay one-behaviour-per-test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from egur_core.llm import CallRecord, LLMClient
from egur_core.memory.embedding import local_embedding
from tests.fakes.openai_server import FakeOpenAIServer, settings_for

T = TypeVar("T")
USER = [{"role": "user", "content": "What is 2 + 3?"}]


class Answer(BaseModel):
    answer: str
    reasoning: str = ""


def run_with_client(server: FakeOpenAIServer, body: Callable[[LLMClient], Awaitable[T]],
                    records: list[CallRecord] | None = None, **settings_kw: Any) -> T:
    """Run ``body(client)`` against ``server`` in a fresh event loop and close the client after."""

    async def main() -> T:
        client = LLMClient(settings_for(server, **settings_kw), local_embed=local_embedding,
                           on_call=records.append if records is not None else None)
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(main())
