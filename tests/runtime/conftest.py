"""Scripted stand-ins for the model client and the tool registry, for runtime tests.

The real client and tools have their own tests (tests/llm, tests/tools); the simulated model
drives the runtime end to end in tests/runtime/test_runtime_simulated.py.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from egur_core.llm import Usage
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.tool_protocol import tool_definition


@dataclass
class ToolCallReply:
    """A scripted reply that asks for tool calls (``(tool, input)`` pairs), as a native endpoint would."""

    calls: list[tuple[str, str]]
    text: str = ""


def calls(*pairs: tuple[str, str]) -> ToolCallReply:
    return ToolCallReply(list(pairs))


@dataclass
class ScriptedChat:
    """Replies from a function of (messages, kwargs); records every call; optional latency.

    ``worst_usd`` is what :meth:`max_cost_usd` says one sample may cost (dollar budgets ask it)."""

    reply: callable = lambda messages, kw: "The answer is: 42"
    latency_s: float = 0.0
    tokens_out: int = 10
    cost_usd: float = 0.001
    worst_usd: float = 0.002
    calls: list = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def max_cost_usd(self, messages, *, alias, max_tokens, n=1, tools=None):
        return self.worst_usd * n

    async def chat(self, messages, *, alias, role, sampling=None, tools=None):
        sampling = sampling or Sampling()
        n, max_tokens = sampling.n, sampling.max_tokens
        self.calls.append({"messages": [dict(m) for m in messages], "alias": alias, "role": role, "n": n,
                           "temperature": sampling.temperature, "max_tokens": max_tokens, "sampling": sampling,
                           "tools": tools})
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
        tool_calls = []
        if isinstance(result, ToolCallReply):
            tool_calls = [SimpleNamespace(id=f"call_{len(self.calls)}_{k}", name=name,
                                          arguments=json.dumps({"input": tool_input}))
                          for k, (name, tool_input) in enumerate(result.calls)]
            result = result.text
        texts = result if isinstance(result, list) else [result] * n
        usage = Usage(prompt_tokens=20 * n, completion_tokens=self.tokens_out * n)
        return SimpleNamespace(texts=texts, usage=usage, cost_usd=self.cost_usd * n, model=f"fake-{alias}",
                               finish_reasons=["stop"] * n, tool_calls=tool_calls,
                               tool_mode="native" if tools else None)


@dataclass
class FakeTool:
    name: str
    output: str = "ok"
    ok: bool = True
    latency_s: float = 0.0
    description: str = "a fake tool"
    inputs: list = field(default_factory=list)

    limits: list = field(default_factory=list)

    async def run(self, input, *, timeout=10.0, memory_mb=None):
        self.inputs.append(input)
        self.limits.append({"timeout": timeout, "memory_mb": memory_mb})
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return SimpleNamespace(ok=self.ok, output=self.output if self.ok else "", error=None if self.ok else "boom")


class FakeTools(dict):
    def get(self, name):
        if name not in self:
            raise KeyError(f"unknown tool '{name}'")
        return self[name]

    def definitions(self, names):
        return [tool_definition(n, self.get(n).description, "text") for n in names]


@pytest.fixture
def chat() -> ScriptedChat:
    return ScriptedChat()


@pytest.fixture
def tools() -> FakeTools:
    return FakeTools(python=FakeTool("python", output="The answer is: 7"), calculator=FakeTool("calculator", "12"))

