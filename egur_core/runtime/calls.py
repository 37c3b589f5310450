"""The two ways a step spends: a model call and a tool call, each checked against the budget first.

Every handler goes through :func:`call_model` and :func:`call_tool`, so budgets (calls, tokens,
dollars), the concurrency cap and the trace's accounting are applied in one place.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from egur_core.runtime.budget import Meter
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.model import Step
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.tokens import estimate_prompt_tokens, estimate_tokens

if TYPE_CHECKING:
    from egur_core.runtime.engine import Runtime

EXECUTOR_ROLE = "executor"
TOOL_ERROR = "ERROR:"  # how a failed tool's result reads in a variable (later steps and votes look for it)


def tool_output(result: Any) -> str:
    """A tool result as a variable's text: the output, or the error first when the tool failed."""
    return result.output if result.ok else f"{TOOL_ERROR} {result.error}\n{result.output}".strip()


class ToolLimitsLike(Protocol):
    """A step's per-call tool limits (``timeout_s``, ``memory_mb``; ``None`` means the runtime's default)."""

    timeout_s: float | None
    memory_mb: int | None


@dataclass
class StepContext:
    runtime: Runtime
    meter: Meter
    trace: list[StepTrace]
    started: float
    current_step: str = ""

    def record(self, step: Step, iteration: int | None, **values: Any) -> StepTrace:
        entry = StepTrace(step_id=step.id, op=step.op, iteration=iteration, **values)
        entry.started_s = entry.started_s or round(time.perf_counter() - self.started, 4)
        self.trace.append(entry)
        return entry


async def call_model(ctx: StepContext, entry: StepTrace, messages: list[dict], *, alias: str, sampling: Sampling,
                     tools: list[dict] | None = None) -> Any:
    """One model call for ``entry``'s step: calls, tokens and dollars are checked before it, counted after."""
    ctx.meter.reserve_calls(sampling.n)
    prompt_tokens = estimate_prompt_tokens(messages) + (estimate_tokens(json.dumps(tools)) if tools else 0)
    max_tokens = ctx.meter.fit_call(prompt_tokens, sampling.max_tokens, sampling.n)  # refuses what cannot fit
    sampling = sampling.model_copy(update={"max_tokens": max_tokens})
    llm = ctx.runtime.llm
    if ctx.meter.budget.max_cost_usd is not None:
        ctx.meter.reserve_cost(llm.max_cost_usd(messages, alias=alias, max_tokens=sampling.max_tokens, n=sampling.n,
                                                tools=tools))
    async with ctx.runtime.slots:
        result = await llm.chat(messages, alias=alias, role=EXECUTOR_ROLE, sampling=sampling, tools=tools)
    usage = result.usage
    entry.calls += sampling.n
    entry.tokens_in += usage.prompt_tokens
    entry.tokens_out += usage.completion_tokens
    entry.cost_usd += result.cost_usd
    entry.detail["model"] = result.model
    if getattr(usage, "estimated", False):
        entry.detail["usage_estimated"] = True
    if any(reason == "length" for reason in getattr(result, "finish_reasons", [])):
        entry.detail["truncated"] = True
    ctx.meter.add_usage(usage.prompt_tokens, usage.completion_tokens, result.cost_usd,
                        cached=usage.cached_prompt_tokens, reasoning=usage.reasoning_tokens)
    return result


async def chat_texts(ctx: StepContext, entry: StepTrace, messages: list[dict], *, alias: str,
                     sampling: Sampling) -> list[str]:
    return list((await call_model(ctx, entry, messages, alias=alias, sampling=sampling)).texts)


async def call_tool(ctx: StepContext, entry: StepTrace, name: str, tool_input: str, limits: ToolLimitsLike) -> Any:
    """One tool call within the step's limits (the runtime's default time limit when the step sets none)."""
    ctx.meter.reserve_calls(1)
    tool = ctx.runtime.tools.get(name)
    options: dict[str, Any] = {"timeout": limits.timeout_s or ctx.runtime.tool_timeout_s}
    if limits.memory_mb is not None:
        options["memory_mb"] = limits.memory_mb
    async with ctx.runtime.slots:
        result = await tool.run(tool_input, **options)
    entry.calls += 1
    return result


def messages_for(system: str, prompt: str) -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
