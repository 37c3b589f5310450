"""JSON Schemas for structured output, in the two forms endpoints take.

*Strict* (OpenAI's ``json_schema`` with ``strict: true``) accepts a subset: every object closed
(``additionalProperties: false``) with every property required, ``anyOf`` but no ``oneOf`` or
``discriminator``, and a ``$ref`` with no siblings. *Plain* is pydantic's own schema, which
grammar-based decoders (llama.cpp's servers, vLLM's guided decoding, Ollama) turn into a decoding
grammar as is. A model with a free-form dict cannot be made strict; :func:`strict_schema` says so
and callers send it non-strict.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel

GRAMMAR_UNFRIENDLY = frozenset({"maxLength", "minLength", "pattern"})
"""String lengths and patterns. llama.cpp turns ``maxLength: N`` into N nested optional rules, and a few of
them make a grammar its parser refuses (llama-cpp-python then crashes); its pattern converter refuses most
regex syntax (``(?:...)``, ``\\w``) and the server then silently decodes any JSON at all. Pydantic checks
lengths and patterns after parsing anyway."""


def plain_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Pydantic's JSON Schema of the reply, field aliases included (what the model must write), without the
    keywords grammar-based decoders cannot afford. A fresh copy: callers may change it."""
    return copy.deepcopy(_plain_schema(model))


@functools.cache
def _plain_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Built once per reply model: generating the strategy schema takes tens of milliseconds, every Guide call."""
    return _without(model.model_json_schema(by_alias=True), GRAMMAR_UNFRIENDLY)


def _without(node: Any, keys: frozenset[str]) -> Any:
    """``node`` without those keywords (a keyword's value is a number or a string; a property of that name
    maps to a schema)."""
    if isinstance(node, dict):
        return {k: _without(v, keys) for k, v in node.items() if not (k in keys and isinstance(v, int | str))}
    if isinstance(node, list):
        return [_without(v, keys) for v in node]
    return node


def strict_schema(model: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """(schema, strict): the strict-mode form when the model allows one, else the plain schema and False. A fresh
    copy of the schema: callers may change it."""
    schema, strict = _strict_schema(model)
    return copy.deepcopy(schema), strict


def strict_allowed(model: type[BaseModel]) -> bool:
    """Whether the reply model has a strict-mode schema (no copy made: nothing to change)."""
    return _strict_schema(model)[1]


@functools.cache
def _strict_schema(model: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    plain = plain_schema(model)
    strict = _make_strict(copy.deepcopy(plain), plain)
    return (strict, True) if _closed(strict) else (plain, False)


def _make_strict(node: Any, root: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_make_strict(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and len(node) > 1:  # strict refuses siblings of $ref: inline the definition
        node = {**_resolve(root, node.pop("$ref")), **node}
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    node.pop("discriminator", None)
    if node.get("default", ...) is None:
        node.pop("default")
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        node.pop("allOf")
        node = {**_resolve_maybe(root, all_of[0]), **node}
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs") and isinstance(value, dict):  # maps of names to schemas
            out[key] = {name: _make_strict(schema, root) for name, schema in value.items()}
        elif key in ("items", "anyOf", "allOf", "additionalProperties", "prefixItems"):
            out[key] = _make_strict(value, root)
        else:
            out[key] = value
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
    return out


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs can be inlined, not {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return copy.deepcopy(target)


def _resolve_maybe(root: dict[str, Any], node: Any) -> dict[str, Any]:
    return _resolve(root, node["$ref"]) if isinstance(node, dict) and set(node) == {"$ref"} else node


def _closed(node: Any) -> bool:
    """Every object has known properties and no others (no free-form dicts anywhere)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and (node.get("additionalProperties") is not False
                                             or "properties" not in node):
            return False
        return all(_closed(value) for value in node.values())
    if isinstance(node, list):
        return all(_closed(value) for value in node)
    return True


def drop_nulls(value: Any) -> Any:
    """A strict reply writes ``null`` for every optional field it leaves out; dropped, the defaults apply."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
