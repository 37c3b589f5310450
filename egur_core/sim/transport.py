"""The simulated model as an HTTP transport under the real ``openai`` client.

Plugging in below the SDK (``httpx2.AsyncClient(transport=SimulatedTransport())``) means the
offline demo runs exactly the code path a real endpoint does: request building, response
parsing, usage accounting, structured-output negotiation. Replies are deterministic for a seed:
every random draw is seeded by the seed, the model, the messages and (above temperature 0) the
sample index.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time

import httpx2

from egur_core.memory.embedding import local_embedding
from egur_core.sim import executor, meta
from egur_core.sim.skills import estimate_tokens
from egur_core.strategy.tool_protocol import TOOL_INPUT_ARG

SIMULATED_MODELS = ("sim-mini", "sim-pro")


class SimulatedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, seed: int = 0, latency_s: float = 0.0, honour_n: bool = True, compact_guide: bool = True):
        """``compact_guide``: the simulated Guide reuses a library strategy by reference (``{"use": ...}``), as a
        model given the compact form would; False writes every strategy out in full."""
        self.seed = seed
        self.compact_guide = compact_guide
        self.latency_s = latency_s
        self.honour_n = honour_n  # False behaves like Ollama: one choice whatever n asks
        self.requests = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/models"):
            return _json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in SIMULATED_MODELS]})
        try:
            body = json.loads(await request.aread() or b"{}")
        except json.JSONDecodeError:
            return _json(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
        if path.endswith("/embeddings"):
            return _json(200, _embeddings(body))
        if path.endswith("/chat/completions"):
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            return _json(200, self.chat(body))
        return _json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def chat(self, body: dict) -> dict:
        messages = body.get("messages", [])
        model = body.get("model", "sim-mini")
        temperature = float(body.get("temperature") or 0.0)
        n = int(body.get("n") or 1) if self.honour_n else 1
        max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or 1024)
        digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        tools = [t["function"]["name"] for t in body.get("tools") or [] if t.get("type") == "function"]
        completions = [self._one(messages, model, (temperature, max_tokens), digest, i, schema, tools)
                       for i in range(n)]
        prompt_tokens = estimate_tokens("".join(str(m.get("content") or "") for m in messages))
        return {
            "id": f"chatcmpl-sim-{digest[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "simulated",
            "choices": [{"index": i, "message": _message(c, f"{digest[:8]}{i}"), "finish_reason": c.finish_reason}
                        for i, c in enumerate(completions)],
            "usage": {
                "prompt_tokens": prompt_tokens * n,
                "completion_tokens": sum(c.completion_tokens for c in completions),
                "total_tokens": prompt_tokens * n + sum(c.completion_tokens for c in completions),
            },
        }

    def _one(self, messages: list[dict], model: str, limits: tuple[float, int], digest: str,
             index: int, schema: dict | None = None, tools: list[str] | None = None) -> executor.Completion:
        temperature, max_tokens = limits
        sample = index if temperature > 0 else 0
        rng = random.Random(f"{self.seed}|{model}|{digest}|{temperature}|{sample}")
        if meta.is_guide(messages):
            text = meta.guide_reply(messages, rng, compact=self.compact_guide)
            return executor.Completion(text=text, completion_tokens=estimate_tokens(text))
        if meta.is_consolidator(messages):
            text = meta.consolidator_reply(messages)
            return executor.Completion(text=text, completion_tokens=estimate_tokens(text) + 150)
        if schema is not None:  # some other structured request (e.g. a connection test): a minimal valid reply
            text = json.dumps(minimal_instance(schema))
            return executor.Completion(text=text, completion_tokens=estimate_tokens(text))
        request = executor.ExecutorRequest(model=model, messages=messages, temperature=temperature,
                                           max_tokens=max_tokens, rng=rng, tools=list(tools or []))
        return executor.complete(request)


def _message(completion: executor.Completion, call_prefix: str) -> dict:
    """The reply message; native tool calls in the OpenAI shape (content null, JSON-text arguments)."""
    if not completion.tool_calls:
        return {"role": "assistant", "content": completion.text}
    return {"role": "assistant", "content": completion.text or None, "tool_calls": [
        {"id": f"call_{call_prefix}_{k}", "type": "function",
         "function": {"name": name, "arguments": json.dumps({TOOL_INPUT_ARG: tool_input})}}
        for k, (name, tool_input) in enumerate(completion.tool_calls)]}


def minimal_instance(schema: dict) -> object:
    """The smallest value that satisfies a simple JSON Schema (required fields only)."""
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(props.get(name, {})) for name in schema.get("required", [])}
    return {"string": "ok", "integer": 0, "number": 0, "boolean": True, "array": []}.get(kind, None)


def _embeddings(body: dict) -> dict:
    inputs = body.get("input", [])
    inputs = [inputs] if isinstance(inputs, str) else inputs
    data = [{"object": "embedding", "index": i, "embedding": local_embedding(str(t))} for i, t in enumerate(inputs)]
    tokens = sum(estimate_tokens(str(t)) for t in inputs)
    return {"object": "list", "data": data, "model": body.get("model", "sim-embed"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def _json(status: int, payload: dict) -> httpx2.Response:
    return httpx2.Response(status, json=payload, headers={"content-type": "application/json"})
