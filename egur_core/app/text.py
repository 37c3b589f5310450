"""Model and problem text shown safely in Markdown: no accidental LaTeX, bold or links.

Streamlit renders ``$...$`` as LaTeX and ``*``/``_`` as emphasis, so an AIME problem with dollar
amounts, or a model's answer with asterisks, came out mangled. Text that is data is escaped.

>>> markdown_escape("It costs $5 and $7 *each*")
'It costs \\\\$5 and \\\\$7 \\\\*each\\\\*'
"""

from __future__ import annotations

_SPECIAL = set("\\`*_{}[]<>()#+-.!|$~")


def markdown_escape(text: str | None, limit: int | None = None) -> str:
    """``text`` with every Markdown (and LaTeX) special character backslash-escaped; clipped to ``limit``."""
    if text is None:
        return ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def or_dash(value: object, fmt: str = "{}") -> str:
    """A value for display, or an en dash when it is missing (never the literal ``None`` or ``nan``)."""
    if value is None or value != value:  # NaN
        return "–"
    return fmt.format(value)
