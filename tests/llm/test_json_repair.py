"""extract_json: the JSON a model meant, from what it wrote."""

from __future__ import annotations

import pytest

from egur_core.llm import extract_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("[1, 2, 3]", [1, 2, 3]),
        ('Here you go:\n```json\n{"a": 1}\n```\nAnything else?', {"a": 1}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('The strategy is {"name": "cot", "steps": []} as requested.', {"name": "cot", "steps": []}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ("{'a': 'x', 'ok': True, 'none': None}", {"a": "x", "ok": True, "none": None}),
        ('{"a": 1, // why\n "b": 2}', {"a": 1, "b": 2}),
        ('{"text": "line one\nline two"}', {"text": "line one\nline two"}),
        ('<think>maybe {"a": 0}?</think>\n{"a": 2}', {"a": 2}),
    ],
    ids=["plain", "array", "fenced-with-prose", "bare-fence", "inline-prose", "trailing-commas",
         "python-literals", "line-comment", "raw-newline-in-string", "think-block"],
)
def test_extracts_and_repairs(text, expected):
    assert extract_json(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"answer": "the resul', {"answer": "the resul"}),
        ('{"a": [1, 2, 3', {"a": [1, 2, 3]}),
        ('{"a": {"b": 1}, "c": ', {"a": {"b": 1}, "c": None}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b": tr', {"a": 1}),
        ('{"x": 1.5e', {"x": 1.5}),
        ('```json\n{"steps": [{"id": "s1", "op": "llm"}, {"id": "s2", "op', {"steps": [{"id": "s1", "op": "llm"},
                                                                               {"id": "s2"}]}),
    ],
    ids=["open-string", "open-array", "missing-value", "dangling-key", "partial-literal", "partial-number",
         "fenced-nested"],
)
def test_truncated_json_is_closed(text, expected):
    assert extract_json(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("I cannot help with that.", "no JSON object or array"),
        ("<think>let me think about", "cut off inside its <think> block"),
    ],
)
def test_impossible_cases_raise_a_clear_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        extract_json(text)
