"""How one request samples: the parameters a step (or a role) asks of the endpoint.

It lives with the language because steps declare it and both the runtime (which builds it from a
step) and the model client (which sends it) need it, and neither may import the other. The knobs a
server may not take (``seed``, ``stop``, ``reasoning_effort``, the penalties) are ``None`` unless a
step sets them: then nothing is sent, and a request (and its cache key) is what it was before.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ReasoningEffort = Literal["low", "medium", "high"]
MAX_STOP_SEQUENCES = 4  # OpenAI's limit; other servers take at least as many
MAX_SEED = 2**31 - 1
OPTIONAL_PARAMS = ("seed", "stop", "reasoning_effort", "presence_penalty", "frequency_penalty")
"""Parameters a server may refuse; the client drops one it refuses and remembers that (errors.param_quirk)."""


class Sampling(BaseModel):
    """The chat-completions sampling parameters of one request."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(1024, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    n: int = Field(1, ge=1)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    stop: list[str] | None = Field(None, max_length=MAX_STOP_SEQUENCES)
    reasoning_effort: ReasoningEffort | None = None
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)

    def params(self) -> dict[str, Any]:
        """The request's parameters: ``n`` only above one, the optional knobs only when set."""
        out: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p}
        if self.n > 1:
            out["n"] = self.n
        for name in OPTIONAL_PARAMS:
            value = getattr(self, name)
            if value is not None and value != []:
                out[name] = value
        return out

    def one_sample(self, index: int) -> Sampling:
        """The ``index``-th of ``n`` samples sent as its own request: a seeded request gets seed + index,
        or every sample would repeat the first."""
        seed = None if self.seed is None else (self.seed + index) % (MAX_SEED + 1)
        return self.model_copy(update={"n": 1, "seed": seed})
