"""What one execution of a strategy did: per-step traces and the totals.

The trace is what the dashboard overlays on a strategy graph and what the Consolidator reads, so
it keeps rendered inputs and outputs (truncated) next to the tokens, dollars and seconds.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

TRACE_TEXT_LIMIT = 4000


def clip(text: str, limit: int = TRACE_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"… [{len(text) - limit + 20} more chars]"


class ToolCallTrace(BaseModel):
    """One tool call an agent made: which turn asked for it, the input, the result."""

    turn: int
    call_id: str = ""
    tool: str
    input: str = ""
    output: str = ""
    ok: bool = True
    error: str | None = None
    seconds: float = 0.0


class StepTrace(BaseModel):
    step_id: str
    op: str
    iteration: int | None = Field(None, description="loop round (1-based) when inside a loop body")
    started_s: float = Field(0.0, description="offset from the execution's start")
    latency_s: float = 0.0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    ok: bool = True
    error: str | None = None
    input: str = ""
    output: str = ""
    detail: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    tool_calls: list[ToolCallTrace] = Field(default_factory=list, description="an agent's calls, in order")


class ExecutionResult(BaseModel):
    strategy_hash: str
    strategy_name: str = ""
    answer: str | None = None
    ok: bool = False
    error: str | None = None
    error_kind: str | None = Field(None, description="what kind of model-call failure ended it (auth, connection, "
                                   "...), when one did")
    failed_step: str | None = None
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = Field(0, description="of tokens_in, served from the provider's prefix cache")
    tokens_reasoning: int = Field(0, description="of tokens_out, reported as reasoning by the endpoint")
    cost_usd: float = 0.0
    latency_s: float = 0.0
    trace: list[StepTrace] = Field(default_factory=list)

    def summary(self, limit: int = 600) -> str:
        """A short account for the Consolidator: which steps ran, what failed, the answer."""
        steps = ", ".join(
            f"{t.step_id}{'#' + str(t.iteration) if t.iteration else ''}{'' if t.ok else ' FAILED'}" for t in self.trace
        )
        status = "ok" if self.ok else f"failed at {self.failed_step}: {self.error}"
        return clip(f"{status}; steps: {steps}; answer: {self.answer!r}", limit)
