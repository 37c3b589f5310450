"""Text that is data is shown as data: no LaTeX from dollar signs, no emphasis, no literal None."""

from __future__ import annotations

from egur_core.app.text import markdown_escape, or_dash


def test_dollars_and_markdown_are_escaped():
    assert markdown_escape("Pay $3 and $4 *now*") == "Pay \\$3 and \\$4 \\*now\\*"
    assert markdown_escape("[link](x)") == "\\[link\\]\\(x\\)"


def test_long_text_is_clipped_and_missing_text_is_empty():
    assert markdown_escape("abcdef", limit=4) == "abc…" and markdown_escape(None) == ""


def test_missing_values_show_as_a_dash():
    assert or_dash(None) == "–" and or_dash(float("nan")) == "–" and or_dash(0.5, "{:.0%}") == "50%"
