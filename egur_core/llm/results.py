"""What a model call gives back (:class:`ChatResult`) and what it leaves for accounting (:class:`CallRecord`)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from egur_core.llm.errors import LLMError
from egur_core.llm.pricing import Usage, estimate_prompt_tokens, estimate_tokens, sum_usage
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.text import clean_text

__all__ = ["CallRecord", "ChatResult", "Sampling", "ToolCall", "merge_results", "read_choices", "read_usage"]


class ToolCall(BaseModel):
    """One tool call a reply asks for: native (the endpoint's ``tool_calls``) or parsed from the text protocol."""

    id: str
    name: str
    arguments: str = Field("", description="JSON text, as the wire carries it")


class CallRecord(BaseModel):
    """One model call (after the SDK's retries), successful or not: the unit of cost accounting."""

    role: str
    alias: str
    model: str
    usage: Usage
    cost_usd: float
    latency_s: float
    ok: bool
    error: str | None = None
    structured_mode: str | None = None
    cached: bool = False


class ChatResult(BaseModel):
    texts: list[str]
    finish_reasons: list[str]
    usage: Usage
    cost_usd: float
    latency_s: float
    model: str
    alias: str
    role: str
    calls: int = 1
    tool_calls: list[ToolCall] = Field(default_factory=list, description="of the first choice (agent turns are one)")
    tool_mode: Literal["native", "text"] | None = Field(None, description="how tools were offered, when they were")


def merge_results(parts: list[ChatResult], latency_s: float) -> ChatResult:
    """Several calls answering one request (n fallback, structured retries) as one result."""
    first = parts[0]
    return ChatResult(
        texts=[t for p in parts for t in p.texts],
        finish_reasons=[f for p in parts for f in p.finish_reasons],
        usage=sum_usage(p.usage for p in parts),
        cost_usd=sum(p.cost_usd for p in parts),
        latency_s=latency_s,
        model=first.model, alias=first.alias, role=first.role,
        calls=sum(p.calls for p in parts),
        tool_calls=list(first.tool_calls), tool_mode=first.tool_mode,
    )


def read_choices(completion: Any) -> tuple[list[str], list[str], list[ToolCall]]:
    """Texts and finish reasons of every choice, in index order, and the first choice's tool calls."""
    choices = sorted(completion.choices or [], key=lambda c: getattr(c, "index", 0) or 0)
    if not choices:
        raise LLMError("bad_reply", "the endpoint returned no choices")
    texts = [clean_text((c.message.content if c.message is not None else None) or "") for c in choices]
    return texts, [c.finish_reason or "stop" for c in choices], _tool_calls_of(choices[0].message)


def _tool_calls_of(message: Any) -> list[ToolCall]:
    """The tool calls in a reply message (``function.arguments`` is JSON text; a server may send an object)."""
    found = []
    for index, call in enumerate(getattr(message, "tool_calls", None) or []):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        if not name:
            continue
        arguments = getattr(function, "arguments", None) or ""
        found.append(ToolCall(id=getattr(call, "id", None) or f"call_{index}", name=name,
                              arguments=arguments if isinstance(arguments, str) else json.dumps(arguments)))
    return found


def read_usage(completion: Any, messages: list[dict], texts: list[str]) -> Usage:
    """The endpoint's usage (with cached prompt and reasoning tokens where it reports them); an estimate
    (flagged) when it sent none or only zeros."""
    u = getattr(completion, "usage", None)
    prompt = getattr(u, "prompt_tokens", None) or 0
    out = getattr(u, "completion_tokens", None) or 0
    if u is not None and (prompt or out or not any(texts)):
        cached = getattr(getattr(u, "prompt_tokens_details", None), "cached_tokens", None) or 0
        reasoning = getattr(getattr(u, "completion_tokens_details", None), "reasoning_tokens", None) or 0
        return Usage(prompt_tokens=prompt, completion_tokens=out, cached_prompt_tokens=cached,
                     reasoning_tokens=reasoning)
    return Usage(prompt_tokens=estimate_prompt_tokens(messages),
                 completion_tokens=sum(estimate_tokens(t) for t in texts), estimated=True)
