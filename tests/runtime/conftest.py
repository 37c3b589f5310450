"""Scripted stand-ins for the model client and the tool registry, for runtime tests.

The real client and tools have their own tests (tests/llm, tests/tools); the simulated model
drives the runtime end to end in tests/runtime/test_runtime_simulated.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest


@dataclass
class ScriptedChat:
    """Replies from a function of (messages, kwargs); records every call; optional latency."""

    reply: callable = lambda messages, kw: "The answer is: 42"
    latency_s: float = 0.0
    tokens_out: int = 10
    calls: list = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    async def chat(self, messages, *, alias, role, temperature=0.0, top_p=1.0, max_tokens=1024, n=1):
        self.calls.append({"messages": messages, "alias": alias, "role": role, "n": n,
                           "temperature": temperature, "max_tokens": max_tokens})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            result = self.reply(messages, {"n": n, "alias": alias, "max_tokens": max_tokens})
        finally:
            self.in_flight -= 1
        if isinstance(result, Exception):
            raise result
        texts = result if isinstance(result, list) else [result] * n
        usage = SimpleNamespace(prompt_tokens=20 * n, completion_tokens=self.tokens_out * n, estimated=False)
        return SimpleNamespace(texts=texts, usage=usage, cost_usd=0.001 * n, model=f"fake-{alias}",
                               finish_reasons=["stop"] * n)


@dataclass
class FakeTool:
    name: str
    output: str = "ok"
    ok: bool = True
    latency_s: float = 0.0
    description: str = "a fake tool"
    inputs: list = field(default_factory=list)

    async def run(self, input, *, timeout=10.0):
        self.inputs.append(input)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return SimpleNamespace(ok=self.ok, output=self.output if self.ok else "", error=None if self.ok else "boom")


class FakeTools(dict):
    def get(self, name):
        if name not in self:
            raise KeyError(f"unknown tool '{name}'")
        return self[name]


@pytest.fixture
def chat() -> ScriptedChat:
    return ScriptedChat()


@pytest.fixture
def tools() -> FakeTools:
    return FakeTools(python=FakeTool("python", output="The answer is: 7"), calculator=FakeTool("calculator", "12"))

