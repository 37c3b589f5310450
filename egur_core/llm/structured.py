"""Structured output that works on every endpoint: negotiate the mode, parse, repair, retry once.

The Guide's strategies and the Consolidator's memory edits are JSON. An endpoint+model starts in
the best mode it is known to accept (``modes.py``: strict ``json_schema`` down to plain text, with
a schema in the request wherever the endpoint can decode under it) and steps down at once when the
server refuses a mode, whatever the status, without retrying a refusal. What it accepted is
remembered, in the memory file when the client has one. The reply is then parsed leniently
(:mod:`json_repair`) and validated; one bad reply earns one repair turn with the validation error
fed back. A bad reply never raises: the caller gets ``value=None`` and a clear ``error`` (transport
failures still raise :class:`LLMError`).
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from egur_core.llm.config import ModelSpec
from egur_core.llm.errors import LLMError
from egur_core.llm.json_repair import extract_json
from egur_core.llm.modes import (
    MODE_LABELS,
    Mode,
    instruction,
    is_format_rejection,
    is_schema_specific,
    next_mode,
    response_format,
    strict_possible,
)
from egur_core.llm.results import ChatResult, Sampling, merge_results
from egur_core.llm.schema import drop_nulls

if TYPE_CHECKING:
    from egur_core.llm.client import LLMClient

MAX_RETRY_TOKENS = 32_768
TRANSIENT = ("server", "timeout", "connection", "rate_limit")


class StructuredResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    value: SerializeAsAny[BaseModel] | None = None
    result: ChatResult | None = None  # summed over every attempt, so cost is complete
    mode: str
    error: str | None = None
    raw_text: str = ""
    negotiation: list[str] = Field(default_factory=list, description="modes refused on the way, e.g. "
                                   "'json_schema rejected -> json_object+schema'")

    @property
    def ok(self) -> bool:
        return self.value is not None


def _with_instruction(messages: list[dict], instruction: str) -> list[dict]:
    """Append to the first system message (some chat templates allow only one), else add one."""
    out = copy.deepcopy(messages)
    for m in out:
        if m.get("role") == "system" and isinstance(m.get("content"), str):
            m["content"] = m["content"].rstrip() + "\n\n" + instruction
            return out
    return [{"role": "system", "content": instruction}, *out]


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


async def negotiate(client: LLMClient, spec: ModelSpec, messages: list[dict], schema: type[BaseModel], *,
                    role: str, sampling: Sampling, wire: type[BaseModel] | None = None) -> StructuredResult:
    """A ``schema`` instance from ``spec``'s model. ``wire`` is the schema the endpoint is asked to decode
    under when the mode sends one (stricter than ``schema``, which parses the reply), default ``schema``."""
    wire = wire or schema
    mode, notes = client.known_mode(spec, wire), []
    convo, parts, start = messages, [], time.perf_counter()
    attempts_left, text, error = 2, "", ""
    skipped_strict = False  # strict was skipped for this schema only: not something the endpoint refused
    while True:
        if mode == "json_schema_strict" and (not strict_possible(wire) or client.refuses_strict(spec, wire)):
            mode, skipped_strict = "json_schema", True
        shown = wire if mode in ("json_schema_strict", "json_schema", "json_object_schema") else schema
        request = _with_instruction(convo, instruction(mode, shown))
        try:
            res = await _complete_in_mode(client, spec, role, request, sampling, mode, wire)
        except LLMError as err:
            if mode == "text" or not is_format_rejection(err):
                raise
            refused, mode = mode, _step_down(client, spec, wire, mode, err)
            notes.append(f"{MODE_LABELS[refused]} rejected -> {MODE_LABELS[mode]}")
            continue
        if not (skipped_strict and mode == "json_schema"):
            client.remember_mode(spec, mode)
        parts.append(res)
        text = res.texts[0] if res.texts else ""
        value, error = parse_reply(text, schema)
        merged = merge_results(parts, time.perf_counter() - start)
        if value is not None:
            return StructuredResult(value=value, result=merged, mode=mode, raw_text=text, negotiation=notes)
        attempts_left -= 1
        cut_off = bool(res.finish_reasons) and res.finish_reasons[0] == "length"
        if cut_off:
            error = f"the reply was cut off at max_tokens={sampling.max_tokens} ({error})"
        if attempts_left == 0:
            return StructuredResult(
                value=None, result=merged, mode=mode, raw_text=text, negotiation=notes,
                error=f"no valid {schema.__name__} after {len(parts)} replies ({MODE_LABELS[mode]} mode): {error}")
        if cut_off:
            sampling = sampling.model_copy(update={"max_tokens": min(sampling.max_tokens * 2, MAX_RETRY_TOKENS)})
        convo = [*messages, {"role": "assistant", "content": text[:4000]},
                 {"role": "user", "content": f"That reply could not be used: {error}. Reply again with only "
                  f"the JSON object{', more concisely' if cut_off else ''}, fixing this."}]


async def _complete_in_mode(client: LLMClient, spec: ModelSpec, role: str, messages: list[dict],
                            sampling: Sampling, mode: Mode, wire: type[BaseModel]) -> ChatResult:
    """One request in ``mode``. Until the endpoint has accepted the mode, the SDK does not retry (a refusal
    can come as a 500, which it would retry four times); a failure that is no refusal then gets the normal
    retries."""
    fmt = response_format(mode, wire)
    if client.has_accepted(spec, mode):
        return await client.complete(spec, role, messages, sampling, response_format=fmt, structured_mode=mode)
    try:
        return await client.complete(spec, role, messages, sampling, response_format=fmt, structured_mode=mode,
                                     retries=0)
    except LLMError as err:
        if err.kind not in TRANSIENT or is_format_rejection(err):
            raise
    return await client.complete(spec, role, messages, sampling, response_format=fmt, structured_mode=mode)


def _step_down(client: LLMClient, spec: ModelSpec, wire: type[BaseModel], mode: Mode, err: LLMError) -> Mode:
    """The mode to try after ``mode`` was refused; a strict refusal of one schema demotes that schema only."""
    if mode == "json_schema_strict" and is_schema_specific(err):
        client.remember_strict_refusal(spec, wire)
        return "json_schema"
    return next_mode(mode)
