"""Execute a strategy on a problem: async, budgeted, traced.

One :class:`Runtime` is shared by every execution of a run; its semaphore is the global cap on
model and tool calls in flight, so k candidates x n samples never flood an endpoint. A failing
step or an exhausted budget ends *that execution* as failed with its reason; it never raises
into the caller's run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Protocol

from egur_core.runtime.answers import extract_final_answer  # noqa: F401  (re-exported)
from egur_core.runtime.budget import (  # noqa: F401  (re-exported)
    MAX_STEPS_EXECUTED,
    MAX_TRACE_CHARS,
    BudgetExceeded,
    Meter,
    StepFailed,
)
from egur_core.runtime.steps import StepContext, run_step
from egur_core.runtime.trace import ExecutionResult, StepTrace
from egur_core.strategy.model import AnswerStep, BranchStep, LoopStep, Step, Strategy
from egur_core.strategy.sampling import Sampling
from egur_core.strategy.templates import format_value


class ChatModel(Protocol):
    """What the runtime needs from the model client (``egur_core.llm.client.LLMClient``)."""

    async def chat(self, messages: list[dict], *, alias: str, role: str, sampling: Sampling | None = None,
                   tools: list[dict] | None = None) -> Any: ...

    def max_cost_usd(self, messages: list[dict], *, alias: str, max_tokens: int, n: int = 1,
                     tools: list[dict] | None = None) -> float:
        """The most one call can cost at the client's prices (dollar budgets check it before calling)."""
        ...


class ToolLookup(Protocol):
    """What the runtime needs from the tool registry (``egur_core.tools.registry.ToolRegistry``)."""

    def get(self, name: str) -> Any: ...

    def definitions(self, names: list[str]) -> list[dict]:
        """Native tool definitions (JSON schema) of the named tools, for agent steps."""
        ...


class _Answered(Exception):
    def __init__(self, value: Any):
        self.value = value


class Runtime:
    def __init__(self, llm: ChatModel, tools: ToolLookup, *, concurrency: int = 8, tool_timeout_s: float = 20.0,
                 max_steps: int = MAX_STEPS_EXECUTED, max_trace_chars: int = MAX_TRACE_CHARS):
        self.llm = llm
        self.tools = tools
        self.slots = asyncio.Semaphore(concurrency)
        self.tool_timeout_s = tool_timeout_s
        self.max_steps, self.max_trace_chars = max_steps, max_trace_chars

    async def execute(self, strategy: Strategy, problem: str,
                      extra_vars: Mapping[str, Any] | None = None) -> ExecutionResult:
        meter = Meter(strategy, max_steps=self.max_steps, max_trace_chars=self.max_trace_chars)
        trace: list[StepTrace] = []
        started = time.perf_counter()
        ctx = StepContext(runtime=self, meter=meter, trace=trace, started=started)
        env: dict[str, Any] = {"problem": problem, **(extra_vars or {})}
        result = ExecutionResult(strategy_hash=strategy.hash, strategy_name=strategy.name)
        try:
            async with asyncio.timeout(strategy.budget.max_seconds):
                await self._run_block(strategy.steps, env, ctx, iteration=None)
            raise StepFailed("", "the strategy ended without reaching an answer step")
        except _Answered as answered:
            result.answer = _answer_text(answered.value)
            result.ok = True
        except TimeoutError:
            result.error = f"budget exceeded: wall time over {strategy.budget.max_seconds:g} s"
            result.failed_step = ctx.current_step
        except BudgetExceeded as exc:
            result.error, result.failed_step = str(exc), ctx.current_step
        except StepFailed as exc:
            result.error, result.failed_step = str(exc), exc.step_id or ctx.current_step
            result.error_kind = getattr(exc.__cause__, "kind", None)  # the model client's failure kind, if any
        except MemoryError:
            result.error, result.failed_step = "out of memory while running this strategy", ctx.current_step
        except Exception as exc:  # noqa: BLE001 - a bug in one step must not end the caller's run
            result.error, result.failed_step = f"{type(exc).__name__}: {exc}", ctx.current_step
        result.calls, result.cost_usd = meter.calls, meter.cost_usd
        result.tokens_in, result.tokens_out = meter.tokens_in, meter.tokens_out
        result.tokens_cached, result.tokens_reasoning = meter.tokens_cached, meter.tokens_reasoning
        result.latency_s = time.perf_counter() - started
        result.trace = trace
        _mark_failed_step(result, strategy)
        return result

    async def _run_block(self, steps: list[Step], env: dict[str, Any], ctx: StepContext, iteration: int | None) -> None:
        position = {step.id: i for i, step in enumerate(steps)}
        index = 0
        while index < len(steps):
            step = steps[index]
            ctx.current_step = step.id
            ctx.meter.count_step()  # the deadline and the step cap hold even for steps that never await
            await asyncio.sleep(0)  # and let the other candidates (and cancellation) in between steps
            if isinstance(step, AnswerStep):
                value = _single_answer(step, env)
                ctx.record(step, iteration, output=value)
                raise _Answered(value)
            if isinstance(step, LoopStep):
                await self._run_loop(step, env, ctx)
            elif isinstance(step, BranchStep):
                taken = step.then if is_truthy(env.get(step.if_)) else step.else_
                ctx.record(step, iteration, output=f"-> {taken or 'next'}", detail={"taken": taken})
                if taken:
                    index = position[taken]
                    continue
            else:
                await run_step(step, env, ctx, iteration)
            index += 1

    async def _run_loop(self, loop: LoopStep, env: dict[str, Any], ctx: StepContext) -> None:
        for round_number in range(1, loop.max_iters + 1):
            await self._run_block(loop.body, env, ctx, iteration=round_number)
            if loop.until and is_truthy(env.get(loop.until)):
                return


def is_truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "pass", "1", "ok"}
    return bool(value)


def _answer_text(value: Any) -> str:
    return value if isinstance(value, str) else format_value(value)


def _single_answer(step: AnswerStep, env: dict[str, Any]) -> str:
    """The one value an answer returns; a list of several is ambiguous (which sample?) and fails the step."""
    if step.from_ not in env:
        raise StepFailed(step.id, f"answer step '{step.id}' found no value in '{step.from_}'")
    value = env[step.from_]
    if isinstance(value, list):
        if len(value) > 1:
            raise StepFailed(step.id, f"answer step '{step.id}': '{step.from_}' holds {len(value)} values; "
                             "vote or select over them first")
        value = value[0] if value else ""
    return _answer_text(value)


def _mark_failed_step(result: ExecutionResult, strategy: Strategy) -> None:
    """Make sure the step that ended the execution shows as failed in the trace (graph overlay)."""
    if result.ok or not result.failed_step:
        return
    last = next((t for t in reversed(result.trace) if t.step_id == result.failed_step), None)
    if last is None:
        op = next((s.op for s in strategy.iter_steps() if s.id == result.failed_step), "?")
        result.trace.append(StepTrace(step_id=result.failed_step, op=op, ok=False, error=result.error))
    elif last.ok:
        last.ok, last.error = False, result.error


__all__ = ["Runtime", "BudgetExceeded", "StepFailed", "Meter", "is_truthy", "extract_final_answer"]
