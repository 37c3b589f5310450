"""Text that can be stored: model replies and imported files may carry lone UTF-16 surrogates.

A JSON reply may spell ``"\\ud800"`` and a decoder may hand one through; Python keeps such a code
point in a ``str``, but it has no UTF-8 form, so DuckDB refuses the row and a whole problem would be
lost. Every boundary where outside text comes in (the model client, parsed JSON, import files)
replaces them with U+FFFD, so what is stored is always valid UTF-8.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """``text`` without lone surrogates (each becomes U+FFFD); the same object when there are none."""
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


def clean_json(value: Any) -> Any:
    """:func:`clean_text` on every string of a parsed JSON value, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    return value
