"""The ``agent`` step: a model that calls tools turn by turn until it answers.

Tools are offered as native tool definitions (from the tool registry); the model client falls back
to a text protocol where an endpoint refuses them, so this loop only ever sees tool calls. Each call
is run within the step's limits and recorded in the trace (turn, tool, input, result). The last
allowed turn tells the model to answer now; a model that still asks for a tool ends the step with
whatever it said.
"""

from __future__ import annotations

import time

from egur_core.runtime.calls import TOOL_ERROR, StepContext, call_model, call_tool, messages_for, tool_output
from egur_core.runtime.trace import StepTrace, ToolCallTrace, clip
from egur_core.strategy.model import AgentStep
from egur_core.strategy.templates import render
from egur_core.strategy.tool_protocol import final_answer, input_from_arguments

OBSERVATION_LIMIT = 3000
LAST_TURN = "You have no tool calls left: give your final answer now."


async def run_agent(step: AgentStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    definitions = ctx.runtime.tools.definitions(step.tools) if step.tools else None
    messages = messages_for(render(step.system, env), render(step.prompt, env))
    entry.input = clip(messages[-1]["content"])
    reply, turns, calls = "", 0, []
    while turns < step.max_steps:
        turns += 1
        if turns == step.max_steps and turns > 1:
            messages.append({"role": "user", "content": LAST_TURN})
        result = await call_model(ctx, entry, messages, alias=step.model, sampling=step.request(), tools=definitions)
        if result.tool_mode:
            entry.detail["tool_mode"] = result.tool_mode
        reply, calls = (result.texts[0] if result.texts else ""), list(result.tool_calls)
        if not calls:
            break
        messages.append({"role": "assistant", "content": reply or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]})
        for call in calls:
            observation = await _run_call(step, ctx, entry, call, turns)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": clip(observation, OBSERVATION_LIMIT)})
    if calls:
        entry.detail["step_limit_reached"] = True
    env[step.out] = final_answer(reply)
    entry.output = clip(env[step.out])
    entry.detail["turns"] = turns
    entry.detail["tool_calls"] = len(entry.tool_calls)


async def _run_call(step: AgentStep, ctx: StepContext, entry: StepTrace, call, turn: int) -> str:
    """Run one requested call; an unknown tool or a failing one is an observation the model can act on."""
    tool_input = input_from_arguments(call.arguments)
    record = ToolCallTrace(turn=turn, call_id=call.id, tool=call.name, input=clip(tool_input, 1000))
    entry.tool_calls.append(record)
    if call.name not in step.tools:
        record.ok, record.error = False, "unknown tool"
        offered = ", ".join(step.tools) or "none"
        record.output = f"{TOOL_ERROR} there is no tool named '{call.name}'; use one of: {offered}"
        return record.output
    began = time.perf_counter()
    result = await call_tool(ctx, entry, call.name, tool_input, step)
    record.seconds = round(time.perf_counter() - began, 4)
    record.ok, record.error = result.ok, result.error
    record.output = clip(tool_output(result), 1000)
    return tool_output(result)
