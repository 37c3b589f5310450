"""The structured-output modes endpoints take, best first, and how a server says it refuses one.

Real servers differ (read from their source): OpenAI takes strict ``json_schema``; vLLM and recent
llama.cpp ``llama-server`` take ``json_schema`` and decode under it; llama-cpp-python's server and
older llama.cpp take only ``text``/``json_object`` but honour ``{"type": "json_object", "schema":
...}`` by building a decoding grammar from the schema; Ollama maps ``json_object`` to its JSON mode.
A refusal is not always a 400: llama-cpp-python answers ``json_schema`` with HTTP 500 and a pydantic
``literal_error`` in the body. So any error status whose body complains about the format is a
rejection of that mode, not an endpoint failure.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel

from egur_core.llm.errors import LLMError
from egur_core.llm.schema import plain_schema, strict_allowed, strict_schema

Mode = Literal["json_schema_strict", "json_schema", "json_object_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema_strict", "json_schema", "json_object_schema", "json_object", "text")
MODE_LABELS = {"json_schema_strict": "strict json_schema", "json_schema": "json_schema",
               "json_object_schema": "json_object+schema", "json_object": "json_object", "text": "text"}
SCHEMA_MODES = ("json_schema_strict", "json_schema", "json_object_schema")
"""Modes in which the endpoint is given the reply's schema, and a constrained decoder can enforce it."""

_FORMAT_COMPLAINT = re.compile(
    r"response_format|json_schema|json_object|structured output|grammar|literal_error|'text' or 'json_object'|"
    r"schema|strict", re.I)
_SCHEMA_SPECIFIC = re.compile(r"invalid schema|additionalProperties|'required'|not permitted|is not supported in "
                              r"strict", re.I)


def schema_name(schema: type[BaseModel]) -> str:
    """response_format names must match ^[a-zA-Z0-9_-]{1,64}$."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64] or "Reply"


def next_mode(mode: Mode) -> Mode:
    return MODES[min(MODES.index(mode) + 1, len(MODES) - 1)]


def is_format_rejection(err: LLMError) -> bool:
    """The server refused this response_format (any status), rather than failing for another reason."""
    return err.kind in ("bad_request", "server") and bool(_FORMAT_COMPLAINT.search(err.detail))


def is_schema_specific(err: LLMError) -> bool:
    """The server takes strict schemas but refused this one (OpenAI lists what is wrong with it)."""
    return bool(_SCHEMA_SPECIFIC.search(err.detail))


def strict_possible(schema: type[BaseModel]) -> bool:
    return strict_allowed(schema)


def response_format(mode: Mode, schema: type[BaseModel]) -> dict[str, Any] | None:
    """The ``response_format`` a mode sends for ``schema`` (None in text mode)."""
    name = schema_name(schema)
    if mode == "json_schema_strict":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": strict_schema(schema)[0],
                                                       "strict": True}}
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": plain_schema(schema),
                                                       "strict": False}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": plain_schema(schema)}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def instruction(mode: Mode, schema: type[BaseModel]) -> str:
    """What the prompt says about the reply's form: the schema travels in the request when the mode sends it."""
    if mode in SCHEMA_MODES:
        return f"Reply with a JSON object that matches the {schema_name(schema)} schema."
    described = json.dumps(plain_schema(schema), separators=(",", ":"))
    return ("Reply with only one JSON object, no prose and no code fences, that conforms to this "
            f"JSON Schema:\n{described}")
