"""BBEH's official `evaluate_correctness`, one test per rule (dataset notes, section 2)."""

from __future__ import annotations

from egur_core.evals.datasets.bbeh_eval import evaluate_correctness as ok
from egur_core.evals.datasets.bbeh_eval import extract_answer, fuzzy_match, strip_latex

# --- step 1: extraction --------------------------------------------------------------------


def test_prefix_the_answer_is_colon() -> None:
    assert ok("Let me count... The answer is: 42", "42")


def test_prefix_the_final_answer_is() -> None:
    assert ok("So the count is big. The final answer is 17", "17")


def test_prefix_last_occurrence_wins() -> None:
    sample = "The answer is: 1. On reflection, The answer is: 2"
    assert ok(sample, "2") and not ok(sample, "1")


def test_prefixes_apply_in_order() -> None:
    # "The answer is:" cuts first, then "The final answer is " cuts what is left.
    assert extract_answer("The answer is: 5. The final answer is 7") == "7"


def test_prefixes_are_case_sensitive() -> None:
    assert not ok("the answer is: 42", "42")  # no prefix found: the whole line is compared


def test_one_trailing_period_dropped() -> None:
    assert ok("The answer is: 42.", "42")
    assert extract_answer("The answer is: 42..") == "42."


def test_dollar_wrapped_latex() -> None:
    assert ok("The answer is: $42$", "42")


def test_boxed_stripped() -> None:
    assert ok("The answer is: \\boxed{42}", "42")
    assert ok("The answer is: $\\boxed{42}$", "42")
    assert strip_latex("boxed{a} boxed{b}") == "a} "  # upstream split(...)[1] quirk


def test_text_and_texttt_stripped() -> None:
    assert ok("The answer is: \\text{yes}", "yes")
    assert ok("The answer is: \\texttt{no}", "No")


# --- steps 2 and 3: normalisation ----------------------------------------------------------


def test_lowercase() -> None:
    assert ok("The answer is: YES", "yes") and ok("The answer is: yes", "YES")


def test_comma_space_normalised_both_sides() -> None:
    assert ok("The answer is: apple, banana,cherry", "apple,banana, cherry")


def test_bold_markers_removed() -> None:
    assert ok("The answer is: **42**", "42")


def test_first_line_only() -> None:
    assert ok("The answer is: 42\nbecause 40 + 2 = 42", "42")
    assert not ok("I think\nThe answer is 42", "43")


def test_reference_is_stripped() -> None:
    assert ok("The answer is: 42", "  42 \n")


# --- step 4: fuzzy match -------------------------------------------------------------------


def test_exact_equality() -> None:
    assert fuzzy_match("no", "no") and not ok("The answer is: 43", "42")


def test_parenthesised_letter_either_side() -> None:
    assert ok("The answer is: (a)", "A") and ok("The answer is: a", "(A)")
    assert not ok("The answer is: (a)", "(B)")
    assert not fuzzy_match("(1)", "1.0")  # the (x) rule returns early: no float fallback


def test_float_equality() -> None:
    assert ok("The answer is: 42.0", "42") and ok("The answer is: 1e3", "1000")
    assert not ok("The answer is: nan", "inf")


def test_quotes_ignored() -> None:
    assert ok("The answer is: 'a', 'b'", "a, b")


def test_square_brackets_either_side() -> None:
    assert ok("The answer is: [emma, lily]", "emma, lily")
    assert ok("The answer is: emma, lily", "[emma, lily]")


def test_trailing_question_mark_on_prediction() -> None:
    assert ok("The answer is: unanswerable?", "unanswerable")
    assert not ok("The answer is: unanswerable", "unanswerable?")


def test_garbage_never_raises() -> None:
    for junk in ["", "   ", "$", "boxed{", "}", "\\boxed{}", "The answer is:", None, 7, "9" * 5000, "\x00\ud800"]:
        assert ok(junk, "42") is False  # type: ignore[arg-type]
