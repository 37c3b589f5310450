"""What the Guide and the Consolidator share: a structured-output model call and its accounting.

Both roles put their inputs in one fenced JSON context block under a header, which keeps the
prompt readable for a real model and lets the offline simulated model parse it exactly.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic import BaseModel


class StructuredModel(Protocol):
    async def structured(self, messages: list[dict], schema: type[BaseModel], *, alias: str, role: str,
                         max_tokens: int = 4096, temperature: float = 0.0) -> Any: ...


class UsageTotals(BaseModel):
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0

    def add(self, result: Any) -> None:
        """Add a ``ChatResult`` (or nothing, when the call never produced one)."""
        if result is None:
            return
        self.cost_usd += result.cost_usd
        self.tokens_in += result.usage.prompt_tokens
        self.tokens_out += result.usage.completion_tokens
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
