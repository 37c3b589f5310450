"""BBEH's official scoring rule, `evaluate_correctness(sample, reference)`, re-implemented.

Follows bbeh/evaluate.py (github.com/google-deepmind/bbeh @ 80d12ca, Apache-2.0) step by step,
as summarised in the dataset notes (section 2). The upstream file is not vendored; quirks are
kept on purpose (e.g. the `(x)` rule returns early, only the first line counts) so that our
accuracies are comparable with the BBEH leaderboard.
"""

from __future__ import annotations

from egur_core.evals.datasets.base import as_text

# Order matters: each prefix that occurs re-cuts the text after its *last* occurrence.
ANSWER_PREFIXES: tuple[str, ...] = (
    "The answer is:",
    "The final answer is ",
    "The final answer is: ",
    "The answer is ",
)


def strip_latex(response: str) -> str:
    """Unwrap `$...$`, then `boxed{...}`, `text{...}`, `texttt{...}` (official strip_latex).

    Each wrapper is removed only when the text ends with `}`; the inner text is what follows
    the *first* occurrence of the wrapper (upstream uses `split(...)[1]`)."""
    if response.startswith("$") and response.endswith("$"):
        response = response[1:-1]
    for wrapper in ("boxed{", "text{", "texttt{"):
        if wrapper in response and response.endswith("}"):
            response = response[0:-1].split(wrapper)[1]
    return response


def extract_answer(sample: str) -> str:
    """Official step 1: cut after answer prefixes, strip, drop one trailing '.', strip LaTeX."""
    answer = sample
    for prefix in ANSWER_PREFIXES:
        if prefix in answer:
            answer = answer.split(prefix)[-1].strip()
    if answer.endswith("."):
        answer = answer[:-1]
    return strip_latex(answer)


def preprocess_sample(sample: str) -> str:
    """Official step 2: lowercase, `", "` -> `","`, remove `**`, first line, drop one '.'."""
    prediction = extract_answer(sample.strip()).lower()
    prediction = prediction.replace(", ", ",").replace("**", "")
    prediction = prediction.split("\n")[0]
    return prediction[0:-1] if prediction.endswith(".") else prediction


def preprocess_reference(reference: str) -> str:
    """Official step 3: strip, lowercase, `", "` -> `","`."""
    return reference.strip().lower().replace(", ", ",")


def _float_equal(prediction: str, reference: str) -> bool:
    """The "Numbers" rule: `float(pred) == float(ref)`; unparsable means no match."""
    try:
        return float(prediction) == float(reference)
    except (ValueError, OverflowError):
        return False


def fuzzy_match(prediction: str, reference: str) -> bool:
    """Official step 4, in upstream order. Note the `(x)` rules *return* (no fall-through)."""
    if prediction == reference:
        return True
    if len(prediction) == 3 and prediction[0] == "(" and prediction[-1] == ")":
        return prediction[1] == reference
    if len(reference) == 3 and reference[0] == "(" and reference[-1] == ")":
        return reference[1] == prediction
    if _float_equal(prediction, reference):
        return True
    if prediction.replace("'", "") == reference.replace("'", ""):
        return True
    if f"[{reference}]" == prediction or f"[{prediction}]" == reference:
        return True
    return prediction.endswith("?") and prediction[:-1] == reference


def evaluate_correctness(sample: str, reference: str) -> bool:
    """BBEH's official verdict for one model output `sample` against the gold `reference`.

    Never raises: non-string input is coerced (None -> ""), so a garbage reply is just wrong."""
    try:
        return fuzzy_match(preprocess_sample(as_text(sample)), preprocess_reference(as_text(reference)))
    except Exception:  # defensive: scoring must not crash a run
        return False
