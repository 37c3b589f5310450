"""A request to the simulated executor, its reply, and the text pieces every simulated role writes."""

from __future__ import annotations

import random
from dataclasses import dataclass

from egur_core.sim import oracle


@dataclass
class Completion:
    text: str
    completion_tokens: int
    finish_reason: str = "stop"


@dataclass
class ExecutorRequest:
    model: str
    messages: list[dict]
    temperature: float
    max_tokens: int
    rng: random.Random

    @property
    def system(self) -> str:
        return next((m.get("content") or "" for m in self.messages if m.get("role") == "system"), "")

    @property
    def last_user(self) -> str:
        return next((m.get("content") or "" for m in reversed(self.messages) if m.get("role") == "user"), "")

    @property
    def all_text(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages)


def final_line(known: oracle.Known, answer: str) -> str:
    if known.family == "math":
        return f"Therefore the answer is $\\boxed{{{answer}}}$.\nThe answer is: {answer}"
    return f"The answer is: {answer}"


def reasoning(rng: random.Random, tokens: int) -> str:
    moves = ["Restate what is asked.", "List the given quantities.", "Work through the cases one at a time.",
             "Check the intermediate result against the constraints.", "Combine the partial results.",
             "Double-check the arithmetic."]
    steps = max(2, min(12, tokens // 120))
    return "\n".join(f"Step {i + 1}: {rng.choice(moves)}" for i in range(steps))
