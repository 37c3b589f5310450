"""Prompt templates: ``{name}`` reads a variable, ``{name?}`` reads one that may be unset.

Only ``{identifier}`` and ``{identifier?}`` are placeholders, so JSON or code inside a prompt
(``{"a": 1}``, ``{x: y}``) passes through untouched; ``{{name}}`` is a literal ``{name}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{[A-Za-z_][A-Za-z0-9_]*\??\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(\?)?\}")


MAX_RENDERED_CHARS = 1_000_000  # ~250k tokens: "{x}{x}{x}..." over a long output must not fill the memory


class MissingVariable(KeyError):
    """A template read a variable that no step has written yet."""


class RenderTooLarge(ValueError):
    """A rendered template would pass the size limit; rendering stops before building it."""


def template_references(template: str) -> list[tuple[str, bool]]:
    """``(name, optional)`` for each placeholder, in order."""
    return [(m.group(1), bool(m.group(2))) for m in _PLACEHOLDER.finditer(template) if m.group(1)]


def render(template: str, variables: Mapping[str, Any], max_chars: int = MAX_RENDERED_CHARS) -> str:
    size = len(template)

    def substitute(match: re.Match[str]) -> str:
        nonlocal size
        name, optional = match.group(1), bool(match.group(2))
        if name is None:  # escaped {{name}}
            return match.group(0)[1:-1]
        if name not in variables:
            if optional:
                return ""
            raise MissingVariable(name)
        text = format_value(variables[name])
        size += len(text)
        if size > max_chars:
            raise RenderTooLarge(f"the rendered text would pass {max_chars:,} characters")
        return text

    return _PLACEHOLDER.sub(substitute, template)


def format_value(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(f"[{i + 1}] {format_value(v)}" for i, v in enumerate(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
