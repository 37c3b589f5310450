"""How good each simulated model is at each kind of problem with each way of working.

The numbers are invented but shaped like reality, so that strategy choice matters the way the
paper says it does: code beats chain of thought on arithmetic, a stronger model costs 15x more
and is right more often, sampling at temperature > 0 gives independent tries that a vote can
combine, and a token limit below what the reasoning needs truncates it.
"""

from __future__ import annotations

import math

# P(correct) for the small model at average difficulty.
BASE_ACCURACY: dict[str, dict[str, float]] = {
    "sat":        {"direct": 0.15, "cot": 0.30, "code": 0.55, "agent": 0.60},
    "counting":   {"direct": 0.25, "cot": 0.50, "code": 0.72, "agent": 0.70},
    "arithmetic": {"direct": 0.05, "cot": 0.30, "code": 0.80, "agent": 0.75},
    "sorting":    {"direct": 0.20, "cot": 0.50, "code": 0.65, "agent": 0.60},
    "math":       {"direct": 0.03, "cot": 0.20, "code": 0.28, "agent": 0.25},
    "logic":      {"direct": 0.20, "cot": 0.40, "code": 0.35, "agent": 0.35},
    "other":      {"direct": 0.15, "cot": 0.35, "code": 0.30, "agent": 0.30},
}

MODEL_BONUS = {"sim-mini": 0.0, "sim-pro": 1.6}  # logit shift
CRITIC_ACCURACY = {"sim-mini": 0.82, "sim-pro": 0.93}
REASONING_TOKENS = {"sim-mini": (500, 900), "sim-pro": (350, 700)}  # base, per unit of difficulty


def model_bonus(model: str) -> float:
    return MODEL_BONUS.get(model, 0.0)


def accuracy(family: str, method: str, model: str, difficulty: float, temperature: float) -> float:
    base = BASE_ACCURACY.get(family, BASE_ACCURACY["other"]).get(method, 0.2)
    logit = math.log(base / (1 - base)) + model_bonus(model) + 1.6 * (0.5 - difficulty)
    if temperature > 1.0:
        logit -= (temperature - 1.0) * 1.5
    return 1 / (1 + math.exp(-logit))


def reasoning_tokens(model: str, difficulty: float, method: str) -> int:
    base, per = REASONING_TOKENS.get(model, REASONING_TOKENS["sim-mini"])
    scale = {"cot": 1.0, "code": 0.45, "direct": 0.06, "agent": 0.35}.get(method, 0.5)
    return int((base + per * difficulty) * scale) + 12


TOOL_USE_RATE = {"sim-mini": 0.75, "sim-pro": 0.95}


def tool_use_rate(model: str) -> float:
    """How often an agent turns to the right tool when it has one (small models often don't)."""
    return TOOL_USE_RATE.get(model, 0.75)


def critic_accuracy(model: str) -> float:
    return CRITIC_ACCURACY.get(model, 0.8)


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))
