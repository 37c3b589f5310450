"""What a model call gives back (:class:`ChatResult`) and what it leaves for accounting (:class:`CallRecord`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from egur_core.llm.pricing import Usage, sum_usage


class Sampling(BaseModel):
    """How one request samples: what a strategy's step (or a role) asks of the endpoint."""

    max_tokens: int = 1024
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1

    def params(self) -> dict[str, Any]:
        """The chat-completions parameters (``n`` only when more than one sample is asked)."""
        out: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p}
        if self.n > 1:
            out["n"] = self.n
        return out


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
