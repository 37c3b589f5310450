"""The scoring rules a dataset can name: each reads the final answer of a reply and never raises."""

from __future__ import annotations

import pytest

from egur_core.evals.datasets.scorers import (
    ScorerSpec,
    choice_letter,
    contains_match,
    exact_match,
    number_match,
    parse_numbers,
    parse_scorer,
    regex_match,
    same_answer,
    score,
)


@pytest.mark.parametrize(("reply", "gold"), [
    ("The answer is: The Eiffel Tower.", "eiffel tower"),
    ("Paris", "paris"),
    ("  PARIS!  ", "Paris"),
    ("Reasoning...\nThe answer is: an apple", "Apple"),
])
def test_exact_match_ignores_case_punctuation_articles_and_reasoning(reply, gold):
    assert exact_match(reply, gold)


def test_exact_match_is_not_a_substring_match():
    assert not exact_match("The answer is: Paris, Texas", "Paris")
    assert not exact_match("", "") and not exact_match(None, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(("reply", "gold"), [
    ("The answer is: 1,234 km", "1234"),
    ("The total comes to $3,000.", "3000"),
    ("The answer is 12%", "12"),
    ("The answer is: 3/4", "0.75"),
    ("The answer is: −5", "-5"),
    ("The answer is: 2.5e3", "2500"),
    ("After 3 steps we get 42 apples.", "42"),
])
def test_number_reads_commas_units_currency_fractions_and_signs(reply, gold):
    assert number_match(reply, gold)


def test_number_tolerance_absolute_and_relative():
    assert not number_match("The answer is 3.14159", "3.1416")
    assert number_match("The answer is 3.14159", "3.1416", tolerance=0.001)
    assert number_match("The answer is 101", "100", tolerance=0.01, relative=True)
    assert not number_match("The answer is 102", "100", tolerance=0.01, relative=True)


def test_number_refuses_ambiguous_or_missing_numbers():
    assert not number_match("The answer is 1,5", "15")  # a comma not followed by three digits separates numbers
    assert not number_match("no number here", "4")
    assert not number_match("The answer is 4", "between 3 and 5")  # a reference must hold one number
    assert parse_numbers("$1,200.50 and 7") == [1200.5, 7.0]


@pytest.mark.parametrize(("reply", "letter"), [
    ("(B)", "B"),
    ("The answer is (C) because the others are wrong.", "C"),
    ("I think B", "B"),
    ("A good guess is C", "C"),
    ("Answer: d) Paris", "D"),
    ("option E is best", "E"),
    ("The answer is: A.", "A"),
    ("I'd say A is right", "A"),
])
def test_choice_finds_the_letter_a_reply_commits_to_even_in_prose(reply, letter):
    assert choice_letter(reply) == letter


def test_choice_ignores_letters_outside_the_options_and_replies_without_one():
    assert choice_letter("I think it is E", letters="ABCD") is None
    assert choice_letter("no idea") is None
    assert score(ScorerSpec(kind="choice"), "After thinking, the answer is (b).", "B")
    assert not score(ScorerSpec(kind="choice"), "The answer is (A)", "B")


def test_regex_matches_the_whole_final_answer_and_survives_bad_patterns():
    assert regex_match("Work...\nThe answer is: 42 apples", r"42( apples)?")
    assert not regex_match("The answer is: 142", r"42")
    assert not regex_match("The answer is: x", "[unclosed")


def test_contains_looks_for_whole_words_in_the_whole_reply():
    assert contains_match("Paris is the capital of France, as everyone knows.", "paris")
    assert not contains_match("A Parisian cafe", "paris")


def test_the_judge_scorer_cannot_be_applied_without_a_model():
    with pytest.raises(ValueError, match="judge"):
        score(ScorerSpec(kind="judge"), "x", "y")


def test_scorers_are_named_on_the_command_line_with_their_options():
    assert parse_scorer("number:0.5") == ScorerSpec(kind="number", tolerance=0.5)
    assert parse_scorer("number:1%") == ScorerSpec(kind="number", tolerance=0.01, relative=True)
    assert parse_scorer("choice:abcd").letters == "ABCD"
    assert parse_scorer("judge", "be strict").rubric == "be strict"
    with pytest.raises(ValueError, match="choose one of exact, number"):
        parse_scorer("fuzzy")
    with pytest.raises(ValueError, match="tolerance"):
        parse_scorer("number:lots")


def test_a_typed_right_answer_is_compared_leniently():
    assert same_answer("The answer is 42.", "42") and same_answer("42.0", "42")
    assert not same_answer("The answer is 43", "42")
