"""A request to the simulated executor, its reply, and the text pieces every simulated role writes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from egur_core.sim import oracle


@dataclass
class Completion:
    text: str
    completion_tokens: int
    finish_reason: str = "stop"
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (tool, input), asked for natively


@dataclass
class ExecutorRequest:
    model: str
    messages: list[dict]
    temperature: float
    max_tokens: int
    rng: random.Random
    tools: list[str] = field(default_factory=list)  # offered natively (the request's ``tools``)

    @property
    def system(self) -> str:
        return next((m.get("content") or "" for m in self.messages if m.get("role") == "system"), "")

    @property
    def last_user(self) -> str:
        return next((m.get("content") or "" for m in reversed(self.messages) if m.get("role") == "user"), "")

    @property
    def observation(self) -> str | None:
        """The latest tool result, native (a ``tool`` message) or in the text protocol; None before any."""
        for m in reversed(self.messages):
            content = str(m.get("content") or "")
            if m.get("role") == "tool":
                return content
            if m.get("role") == "user" and content.startswith("OBSERVATION:"):
                return content.removeprefix("OBSERVATION:").strip()
        return None

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
