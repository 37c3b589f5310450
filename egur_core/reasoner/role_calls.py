"""What the Guide and the Consolidator share: a structured-output model call and its accounting.

Both roles put their inputs in one fenced JSON context block under a header, which keeps the
prompt readable for a real model and lets the offline simulated model parse it exactly.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic import BaseModel, Field


class StructuredModel(Protocol):
    async def structured(self, messages: list[dict], schema: type[BaseModel], *, alias: str, role: str,
                         max_tokens: int = 4096, temperature: float = 0.0,
                         wire: type[BaseModel] | None = None) -> Any: ...


class UsageTotals(BaseModel):
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    tokens_cached: int = Field(0, description="prompt tokens served from the provider's cache")
    tokens_reasoning: int = 0
    error: str | None = None
    error_kind: str | None = Field(None, description="the endpoint failure's kind (auth, connection, ...) when "
                                   "the call failed for good")
    mode: str | None = Field(None, description="the structured-output mode the endpoint answered in")
    negotiation: list[str] = Field(default_factory=list, description="modes refused on the way")

    def add(self, result: Any) -> None:
        """Add a ``ChatResult`` (or nothing, when the call never produced one)."""
        if result is None:
            return
        self.cost_usd += result.cost_usd
        self.tokens_in += result.usage.prompt_tokens
        self.tokens_out += result.usage.completion_tokens
        self.tokens_cached += result.usage.cached_prompt_tokens
        self.tokens_reasoning += result.usage.reasoning_tokens
        self.calls += getattr(result, "calls", 1)


def context_block(header: str, context: dict[str, Any]) -> str:
    return f"{header}\n```json\n{json.dumps(context, ensure_ascii=False, indent=1)}\n```\n"


def parse_context(messages: list[dict], header: str) -> dict[str, Any] | None:
    """The JSON context block under ``header`` in a prompt, or None."""
    for message in messages:
        content = message.get("content") or ""
        if header in content and "```json" in content:
            # the closing fence is the last one: the context itself may mention ``` (tool descriptions)
            block = content.split(header, 1)[1].split("```json", 1)[1].rsplit("\n```", 1)[0]
            try:
                return json.loads(block)
            except json.JSONDecodeError:
                return None
    return None


async def call_role(llm: StructuredModel, messages: list[dict], schema: type[BaseModel], outcome: UsageTotals, *,
                    alias: str, role: str, max_tokens: int, wire: type[BaseModel] | None = None) -> Any | None:
    """One structured call for a role: the parsed reply, or None with ``outcome.error`` set.

    Never raises for the endpoint or the reply: an endpoint failure (an ``LLMError``, which carries its
    ``kind``) or an unusable reply is that problem's recorded error, and the run goes on. Usage, the mode
    and what negotiation refused are added to ``outcome`` either way."""
    label = role.capitalize()
    try:
        reply = await llm.structured(messages, schema, alias=alias, role=role, max_tokens=max_tokens, wire=wire)
    except Exception as exc:  # noqa: BLE001  the model client raises only its own LLMError for endpoint failures
        outcome.error = f"{label} call failed: {exc}"
        outcome.error_kind = getattr(exc, "kind", "unknown")
        return None
    outcome.add(reply.result)
    outcome.mode = reply.mode
    outcome.negotiation += [n for n in reply.negotiation if n not in outcome.negotiation]
    if reply.value is None:
        outcome.error = f"{label} reply unusable: {reply.error}"
    return reply.value
