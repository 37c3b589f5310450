"""One handler per step kind. Each renders its inputs, spends through the meter (:mod:`calls`), writes
its outputs into the environment and leaves exactly one :class:`StepTrace` per run of the step."""

from __future__ import annotations

import time
from typing import Any

from egur_core.runtime.agent import run_agent
from egur_core.runtime.aggregate import run_extract, run_gather, run_select, run_vote
from egur_core.runtime.budget import BudgetExceeded, StepFailed
from egur_core.runtime.calls import EXECUTOR_ROLE, StepContext, call_tool, chat_texts, messages_for, tool_output
from egur_core.runtime.trace import StepTrace, clip
from egur_core.strategy.model import VERIFY_SYSTEM, LLMStep, Step, ToolStep, VerifyStep
from egur_core.strategy.templates import MissingVariable, format_value, render

__all__ = ["EXECUTOR_ROLE", "StepContext", "run_step", "verdict_passes"]
VERDICT_FORMAT = "Start your reply with PASS or FAIL."


async def run_step(step: Step, env: dict[str, Any], ctx: StepContext, iteration: int | None) -> None:
    entry = ctx.record(step, iteration)
    began = time.perf_counter()
    try:
        handler = _HANDLERS[step.op]
        await handler(step, env, ctx, entry)
    except MissingVariable as exc:
        entry.ok, entry.error = False, f"variable '{exc.args[0]}' is not set"
        raise StepFailed(step.id, f"step '{step.id}' read variable '{exc.args[0]}' before it was set") from exc
    except BudgetExceeded as exc:
        entry.ok, entry.error = False, str(exc)
        raise
    except StepFailed as exc:
        entry.ok, entry.error = False, str(exc)
        raise
    except Exception as exc:  # noqa: BLE001 - model/transport errors end this execution only
        entry.ok, entry.error = False, f"{type(exc).__name__}: {exc}"
        raise StepFailed(step.id, f"step '{step.id}' failed: {exc}") from exc
    finally:
        entry.latency_s = round(time.perf_counter() - began, 4)
    ctx.meter.add_trace(len(entry.input) + len(entry.output))


async def _run_llm(step: LLMStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    system, prompt = render(step.system, env), render(step.prompt, env)
    entry.input = clip(prompt)
    texts = await chat_texts(ctx, entry, messages_for(system, prompt), alias=step.model, sampling=step.request())
    env[step.out] = texts if step.n > 1 else (texts[0] if texts else "")
    entry.output = clip(format_value(env[step.out]))


async def _run_tool(step: ToolStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    tool_input = render(step.input, env)
    entry.input = clip(tool_input)
    result = await call_tool(ctx, entry, step.tool, tool_input, step)
    # A tool error is information for later steps (a critic, a retry), not the end of the execution.
    env[step.out] = tool_output(result)
    entry.ok, entry.error = result.ok, result.error
    entry.output = clip(env[step.out])


async def _run_verify(step: VerifyStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    if step.method == "tool":
        tool_input = render(step.input, env)
        entry.input = clip(tool_input)
        result = await call_tool(ctx, entry, step.tool, tool_input, step)
        passed, critique = result.ok, result.output if result.ok else (result.error or "tool failed")
    else:
        prompt = render(step.prompt, env)
        entry.input = clip(prompt)
        system = f"{render(step.system, env) if step.system is not None else VERIFY_SYSTEM} {VERDICT_FORMAT}".strip()
        [reply] = (await chat_texts(ctx, entry, messages_for(system, prompt), alias=step.model,
                                    sampling=step.request()))[:1] or [""]
        passed, critique = verdict_passes(reply), reply
    env[step.flag] = passed
    if step.feedback:
        env[step.feedback] = critique
    entry.output = clip(f"{'PASS' if passed else 'FAIL'}: {critique}")
    entry.detail["passed"] = passed


def verdict_passes(reply: str) -> bool:
    """PASS wins only if it comes before any FAIL: "FAIL - would not PASS review" is a fail."""
    upper = reply.upper()
    p, f = upper.find("PASS"), upper.find("FAIL")
    return p >= 0 and (f < 0 or p < f)


_HANDLERS: dict[str, Any] = {
    "llm": _run_llm,
    "tool": _run_tool,
    "vote": run_vote,
    "select": run_select,
    "verify": _run_verify,
    "agent": run_agent,
    "gather": run_gather,
    "extract": run_extract,
}
