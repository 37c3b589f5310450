"""The scoring rules a user's dataset can name, as data (:class:`ScorerSpec`) and pure functions.

A dataset that brings its own problems has no official rule, so it picks one of these:
``exact`` (normalised exact match), ``number`` (with a tolerance; commas, currency and units are
read through), ``choice`` (a multiple-choice letter, also inside prose), ``regex`` (each row's
answer is a pattern), ``contains`` (the reply contains the answer), or ``judge`` (an LLM with a
rubric; see :mod:`egur_core.evals.datasets.judge`). Every rule reads the final answer of a
reply the way voting does (``\\boxed{}``, "The answer is: ...", else the last line), returns
False for garbage and never raises.
"""

from __future__ import annotations

import math
import re
import string
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from egur_core.runtime.answers import as_text, extract_final_answer

ScorerKind = Literal["exact", "number", "choice", "regex", "contains", "judge"]
SCORER_KINDS: tuple[str, ...] = ("exact", "number", "choice", "regex", "contains", "judge")
MAX_SCORED_CHARS = 4000  # a reply is cut here before a user's regex sees it (no runaway backtracking)
SCORER_KEY = "_scorer"  # in a stored problem's meta: its dataset's scorer, as a dict
DEFAULT_RUBRIC = ("The answer is correct when it states the same final result as the reference answer; "
                  "wording, formatting and extra explanation do not matter.")


class ScorerSpec(BaseModel):
    """How a dataset's answers are judged; stored with the dataset as JSON."""

    model_config = ConfigDict(extra="forbid")

    kind: ScorerKind = "exact"
    tolerance: float = Field(0.0, ge=0.0, description="number: allowed difference (absolute, or relative)")
    relative: bool = Field(False, description="number: tolerance is a fraction of the reference")
    letters: str = Field("ABCDEFGHIJ", min_length=2, description="choice: the option letters")
    case_sensitive: bool = False
    rubric: str = Field("", description="judge: what makes an answer correct")

    @model_validator(mode="after")
    def _letters_are_letters(self) -> ScorerSpec:
        if not self.letters.isalpha():
            raise ValueError(f"choice letters must be letters, not {self.letters!r}")
        self.letters = self.letters.upper()
        return self

    def describe(self) -> str:
        """One line for lists and pickers, e.g. ``number (±0.01)``."""
        if self.kind == "number":
            tol = f"{self.tolerance:.4g}" + ("%" if self.relative else "")
            return f"number (±{tol})" if self.tolerance else "number"
        if self.kind == "choice":
            return f"choice ({self.letters[0]}-{self.letters[-1]})"
        if self.kind == "judge":
            return "LLM judge"
        return self.kind


def parse_scorer(text: str, rubric: str = "") -> ScorerSpec:
    """The command-line form: ``exact``, ``number``, ``number:0.01``, ``number:1%``, ``choice``,
    ``choice:ABCD``, ``regex``, ``contains``, ``judge`` (with ``rubric``). ValueError says what is valid."""
    kind, _, arg = (text or "exact").strip().partition(":")
    kind = kind.strip().lower()
    if kind not in SCORER_KINDS:
        raise ValueError(f"unknown scorer {text!r}; choose one of {', '.join(SCORER_KINDS)} "
                         "(number:0.01 or number:1% sets a tolerance, choice:ABCD the letters)")
    spec: dict[str, object] = {"kind": kind, "rubric": rubric.strip()}
    if kind == "number" and arg:
        relative = arg.strip().endswith("%")
        try:
            value = float(arg.strip().rstrip("%"))
        except ValueError:
            raise ValueError(f"number tolerance must be a number like 0.01 or 1%, not {arg!r}") from None
        spec |= {"tolerance": value / 100 if relative else value, "relative": relative}
    elif kind == "choice" and arg:
        spec["letters"] = arg.strip()
    elif arg:
        raise ValueError(f"the {kind} scorer takes no argument (got {arg!r})")
    return ScorerSpec.model_validate(spec)


# -- normalised exact match ---------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCT = str.maketrans("", "", string.punctuation)


def normalise(text: str, case_sensitive: bool = False) -> str:
    """SQuAD-style: lower case, no punctuation, no articles, single spaces."""
    text = as_text(text)
    if not case_sensitive:
        text = text.lower()
    text = _ARTICLES.sub(" ", text.translate(_PUNCT))
    return " ".join(text.split())


def exact_match(prediction: str, gold: str, case_sensitive: bool = False) -> bool:
    answer = normalise(extract_final_answer(prediction), case_sensitive)
    return bool(answer) and answer == normalise(gold, case_sensitive)


# -- numbers -------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-−+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+)?")


def parse_numbers(text: str) -> list[float]:
    """Every number in ``text``, in order: ``1,234.5`` (thousands commas), ``-3``, ``2.5e3``, ``3/4``,
    ``$1,200``, ``45%`` (as 45), ``12 km`` (units are ignored)."""
    values: list[float] = []
    for match in _NUMBER.finditer(as_text(text)):
        token = match.group().replace("−", "-").replace(",", "").replace(" ", "")
        if not any(ch.isdigit() for ch in token):
            continue
        try:
            values.append(float(Fraction(token)) if "/" in token else float(token))
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
    return values


def number_match(prediction: str, gold: str, tolerance: float = 0.0, relative: bool = False) -> bool:
    """The last number of the final answer equals the reference's number, within the tolerance."""
    golds, answers = parse_numbers(gold), parse_numbers(extract_final_answer(prediction))
    if len(golds) != 1 or not answers:
        return False
    want, got = golds[0], answers[-1]
    allowed = tolerance * abs(want) if relative else tolerance
    return math.isfinite(got) and abs(got - want) <= max(allowed, 1e-9 * max(1.0, abs(want)))


# -- multiple choice -------------------------------------------------------------------------------

def choice_letter(text: str, letters: str = "ABCDEFGHIJ") -> str | None:
    """The option letter a reply commits to: ``(B)``, ``B)``, ``answer is B``, ``option B``, a bare ``B``.

    The final answer is read first, then the whole reply; in prose the last explicit marker wins,
    and a lone capital counts only when it is an option and not a word ("A good guess is C",
    "I think B": the article and the pronoun are not options A and I)."""
    cls = f"[{re.escape(letters)}{re.escape(letters.lower())}]"
    explicit = re.compile(rf"\(({cls})\)|\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?({cls})\b|^({cls})[\).:](?:\s|$)",
                          re.IGNORECASE | re.MULTILINE)
    lone = re.compile(rf"(?<![\w'])([{re.escape(letters)}])(?![\w'])")
    for source in (extract_final_answer(text).strip(), as_text(text).strip()):
        whole = re.fullmatch(rf"\(?({cls})[\).:]?", source)
        if whole:
            return whole.group(1).upper()
        marked = [next(g for g in m.groups() if g) for m in explicit.finditer(source)]
        if marked:
            return marked[-1].upper()
        options = [m.group(1) for m in lone.finditer(source) if not _is_word(source, m)]
        if options:
            return options[-1]
    return None


def _is_word(source: str, match: re.Match[str]) -> bool:
    """'A' and 'I' followed by a lower-case word are the article and the pronoun ('A is right' is not)."""
    return match.group(1) in "AI" and re.match(r"\s+(?!is\b|was\b)[a-z]", source[match.end():]) is not None


def choice_match(prediction: str, gold: str, letters: str = "ABCDEFGHIJ") -> bool:
    want = choice_letter(gold, letters)
    return want is not None and choice_letter(prediction, letters) == want


# -- patterns and containment ------------------------------------------------------------------------

def regex_match(prediction: str, pattern: str, case_sensitive: bool = False) -> bool:
    """The reference is a regular expression that must match the whole final answer."""
    try:
        compiled = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error:
        return False
    answer = extract_final_answer(prediction)[:MAX_SCORED_CHARS].strip()
    return compiled.fullmatch(answer) is not None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used as a reference (None when it compiles)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def contains_match(prediction: str, gold: str, case_sensitive: bool = False) -> bool:
    """The normalised reference occurs, as whole words, in the normalised reply (long-form answers)."""
    want = normalise(gold, case_sensitive)
    return bool(want) and f" {want} " in f" {normalise(prediction, case_sensitive)} "


def score(spec: ScorerSpec, prediction: str, gold: str) -> bool:
    """Apply a rule that needs no model (every kind but ``judge``, which :mod:`judge` grades)."""
    prediction, gold = as_text(prediction), as_text(gold)
    if spec.kind == "number":
        return number_match(prediction, gold, spec.tolerance, spec.relative)
    if spec.kind == "choice":
        return choice_match(prediction, gold, spec.letters)
    if spec.kind == "regex":
        return regex_match(prediction, gold, spec.case_sensitive)
    if spec.kind == "contains":
        return contains_match(prediction, gold, spec.case_sensitive)
    if spec.kind == "judge":
        raise ValueError("the judge scorer needs a model; grade with egur_core.evals.datasets.judge")
    return exact_match(prediction, gold, spec.case_sensitive)


def same_answer(prediction: str, gold: str) -> bool:
    """A lenient rule for answers a person types (Ask): normalised text or equal numbers."""
    if exact_match(prediction, gold):
        return True
    golds = parse_numbers(gold)
    return len(golds) == 1 and normalise(gold) == normalise(_number_text(golds[0])) and number_match(prediction, gold)


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
