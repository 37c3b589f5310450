"""Structured output that works on every endpoint: negotiate, parse, repair, retry once.

The Guide's strategies and the Consolidator's memory edits are JSON. Endpoints differ in what they
accept: strict ``json_schema`` (OpenAI, recent vLLM), only ``json_object`` (many gateways, older
servers), or no ``response_format`` at all. We start from the best mode the endpoint is known to
accept, step down on a 400 that complains about the format, and remember what worked. Whatever the
mode, the reply is parsed leniently (:mod:`json_repair`) and validated; one bad reply earns one
retry with the validation error fed back. A bad reply never raises: the caller gets ``value=None``
and a clear ``error`` (transport failures still raise :class:`LLMError`).
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, SerializeAsAny, ValidationError

from egur_core.llm.errors import LLMError
from egur_core.llm.results import ChatResult, Sampling, merge_results
from egur_core.llm.schema import drop_nulls, plain_schema, strict_schema

if TYPE_CHECKING:
    from egur_core.llm.client import LLMClient
from egur_core.llm.config import ModelSpec
from egur_core.llm.json_repair import extract_json

MODES = ("json_schema", "json_object", "text")
MAX_RETRY_TOKENS = 32_768
_FORMAT_COMPLAINT = re.compile(
    r"response_format|json_schema|json_object|structured|grammar|not supported|unsupported|schema", re.I)
_STRICT_COMPLAINT = re.compile(r"strict|invalid schema|additionalProperties|required", re.I)


class StructuredResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    value: SerializeAsAny[BaseModel] | None = None
    result: ChatResult | None = None  # summed over every attempt, so cost is complete
    mode: str
    error: str | None = None
    raw_text: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


def schema_name(schema: type[BaseModel]) -> str:
    """response_format names must match ^[a-zA-Z0-9_-]{1,64}$."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64] or "Reply"


def _with_instruction(messages: list[dict], instruction: str) -> list[dict]:
    """Append to the first system message (some chat templates allow only one), else add one."""
    out = copy.deepcopy(messages)
    for m in out:
        if m.get("role") == "system" and isinstance(m.get("content"), str):
            m["content"] = m["content"].rstrip() + "\n\n" + instruction
            return out
    return [{"role": "system", "content": instruction}, *out]


def _instruction(mode: str, schema: type[BaseModel]) -> str:
    if mode == "json_schema":
        return f"Reply with a JSON object that matches the {schema_name(schema)} schema."
    described = json.dumps(plain_schema(schema), separators=(",", ":"))
    return ("Reply with only one JSON object, no prose and no code fences, that conforms to this "
            f"JSON Schema:\n{described}")


def _response_format(mode: str, schema: type[BaseModel], strict: bool) -> dict | None:
    if mode == "json_schema":
        body, ok = strict_schema(schema) if strict else (plain_schema(schema), False)
        return {"type": "json_schema", "json_schema": {"name": schema_name(schema), "schema": body, "strict": ok}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def parse_reply(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """(value, None) or (None, a short reason a model can act on)."""
    try:
        data = extract_json(text)
    except ValueError as exc:
        return None, str(exc)
    candidates = [data, drop_nulls(data)]  # strict replies write null for optional fields they leave out
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        candidates.append(next(iter(data.values())))  # {"Strategy": {...}}: a wrapper around the answer
    first_error = ""
    for candidate in candidates:
        try:
            return schema.model_validate(candidate), None
        except ValidationError as exc:
            first_error = first_error or _summarise(exc)
    return None, f"the JSON does not match {schema.__name__}: {first_error}"


def _summarise(exc: ValidationError, limit: int = 6) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _starting_mode(client: LLMClient, endpoint: str) -> str:
    configured = client.endpoint_config(endpoint).structured_mode
    return configured if configured != "auto" else client.structured_modes.get(endpoint, MODES[0])


async def negotiate(client: LLMClient, spec: ModelSpec, messages: list[dict], schema: type[BaseModel], *,
                    role: str, max_tokens: int, temperature: float) -> StructuredResult:
    endpoint = spec.endpoint
    mode = _starting_mode(client, endpoint)
    strict = (endpoint, schema.__qualname__) not in client.nonstrict_schemas
    convo, parts, start = messages, [], time.perf_counter()
    attempts_left, text, error = 2, "", ""
    while True:
        try:
            res = await client.complete(
                spec, role, _with_instruction(convo, _instruction(mode, schema)),
                Sampling(max_tokens=max_tokens, temperature=temperature),
                response_format=_response_format(mode, schema, strict), structured_mode=mode)
        except LLMError as err:
            if err.kind != "bad_request" or not _FORMAT_COMPLAINT.search(err.detail) or mode == "text":
                raise
            if mode == "json_schema" and strict and _STRICT_COMPLAINT.search(err.detail):
                strict = False  # the endpoint takes schemas but not our strict form: try non-strict first
                client.nonstrict_schemas.add((endpoint, schema.__qualname__))
                continue
            mode = MODES[MODES.index(mode) + 1]
            continue
        client.structured_modes[endpoint] = mode  # accepted: start here next time
        parts.append(res)
        text = res.texts[0] if res.texts else ""
        value, error = parse_reply(text, schema)
        merged = merge_results(parts, time.perf_counter() - start)
        if value is not None:
            return StructuredResult(value=value, result=merged, mode=mode, raw_text=text)
        attempts_left -= 1
        cut_off = bool(res.finish_reasons) and res.finish_reasons[0] == "length"
        if cut_off:
            error = f"the reply was cut off at max_tokens={max_tokens} ({error})"
        if attempts_left == 0:
            return StructuredResult(
                value=None, result=merged, mode=mode, raw_text=text,
                error=f"no valid {schema.__name__} after {len(parts)} replies ({mode} mode): {error}")
        if cut_off:
            max_tokens = min(max_tokens * 2, MAX_RETRY_TOKENS)
        convo = [*messages, {"role": "assistant", "content": text[:4000]},
                 {"role": "user", "content": f"That reply could not be used: {error}. Reply again with only "
                  f"the JSON object{', more concisely' if cut_off else ''}, fixing this."}]


class ProbeReply(BaseModel):
    """A tiny schema for the connection test."""

    answer: str


async def probe_endpoint(client: LLMClient, endpoint: str) -> dict:
    """What "test connection" shows: reachability, models, best structured mode, embeddings, usage."""
    out: dict[str, Any] = {"ok": False, "endpoint": endpoint, "models": None, "structured_mode": None,
                           "embeddings": False, "usage_reported": False, "latency_s": None, "error": None}
    try:
        ep = client.endpoint_config(endpoint)
    except KeyError as exc:
        out["error"] = str(exc.args[0])
        return out
    out["simulated"] = ep.simulated
    try:
        page = await client.sdk(endpoint).models.list()
        out["models"] = [m.id for m in page.data]
    except Exception:  # noqa: BLE001 - many servers have no /models; the chat test decides "ok"
        pass
    spec = next((m for m in client.settings.models.values() if m.endpoint == endpoint), None)
    if spec is None and out["models"]:
        spec = ModelSpec(alias=out["models"][0], model=out["models"][0], endpoint=endpoint)
    if spec is None:
        out["error"] = f"no model is configured for endpoint {endpoint!r} and it lists none"
        return out
    try:
        res = await client.complete(spec, "probe", [{"role": "user", "content": "Reply with the word OK."}],
                                    Sampling(max_tokens=16))
        out.update(ok=True, latency_s=round(res.latency_s, 3), usage_reported=not res.usage.estimated)
        client.structured_modes.pop(endpoint, None)  # renegotiate from the top
        sres = await negotiate(client, spec, [{"role": "user", "content": "What is 2+3? Answer in JSON."}],
                               ProbeReply, role="probe", max_tokens=64, temperature=0.0)
        out["structured_mode"] = sres.mode if sres.ok else None
        if client.embedding_target() and client.embedding_target()[0] == endpoint:
            await client.embed(["connection test"])
            out["embeddings"] = client.embedding_target() is not None
    except LLMError as err:
        out["error"] = str(err)
    return out
