"""What a model call gives back (:class:`ChatResult`) and what it leaves for accounting (:class:`CallRecord`)."""

from __future__ import annotations

from pydantic import BaseModel

from egur_core.llm.pricing import Usage, sum_usage


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
    )
