"""One handler per step kind. Each renders its inputs, spends through the meter, writes its
outputs into the environment and leaves exactly one :class:`StepTrace` per run of the step."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egur_core.runtime.answers import extract_final_answer, normalise_for_vote
from egur_core.runtime.budget import BudgetExceeded, Meter, StepFailed
from egur_core.runtime.trace import StepTrace, clip
from egur_core.strategy.model import AgentStep, LLMStep, SelectStep, Step, ToolStep, VerifyStep, VoteStep
from egur_core.strategy.templates import MissingVariable, format_value, render
from egur_core.strategy.tokens import estimate_prompt_tokens

if TYPE_CHECKING:
    from egur_core.runtime.engine import Runtime

EXECUTOR_ROLE = "executor"
MAX_VOTE_SAMPLES = 256
MAX_VOTE_CHARS = 50_000  # of each sample, from its end (where the answer is)


@dataclass
class StepContext:
    runtime: Runtime
    meter: Meter
    trace: list[StepTrace]
    started: float
    current_step: str = ""
    _open: dict[str, StepTrace] = field(default_factory=dict)

    def record(self, step: Step, iteration: int | None, **values: Any) -> StepTrace:
        entry = StepTrace(step_id=step.id, op=step.op, iteration=iteration, **values)
        entry.started_s = entry.started_s or round(time.perf_counter() - self.started, 4)
        self.trace.append(entry)
        return entry


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


async def _chat(ctx: StepContext, entry: StepTrace, messages: list[dict], *, alias: str, temperature: float,
                top_p: float, max_tokens: int, n: int) -> list[str]:
    ctx.meter.reserve_calls(n)
    max_tokens = ctx.meter.fit_call(estimate_prompt_tokens(messages), max_tokens, n)
    async with ctx.runtime.slots:
        result = await ctx.runtime.llm.chat(
            messages, alias=alias, role=EXECUTOR_ROLE, temperature=temperature, top_p=top_p, max_tokens=max_tokens, n=n
        )
    usage = result.usage
    entry.calls += n
    entry.tokens_in += usage.prompt_tokens
    entry.tokens_out += usage.completion_tokens
    entry.cost_usd += result.cost_usd
    entry.detail["model"] = result.model
    if getattr(usage, "estimated", False):
        entry.detail["usage_estimated"] = True
    if any(reason == "length" for reason in getattr(result, "finish_reasons", [])):
        entry.detail["truncated"] = True
    ctx.meter.add_usage(usage.prompt_tokens, usage.completion_tokens, result.cost_usd)
    return list(result.texts)


def _messages(system: str, prompt: str) -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]


async def _run_llm(step: LLMStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    system, prompt = render(step.system, env), render(step.prompt, env)
    entry.input = clip(prompt)
    texts = await _chat(ctx, entry, _messages(system, prompt), alias=step.model, temperature=step.temperature,
                        top_p=step.top_p, max_tokens=step.max_tokens, n=step.n)
    env[step.out] = texts if step.n > 1 else (texts[0] if texts else "")
    entry.output = clip(format_value(env[step.out]))


async def _call_tool(ctx: StepContext, entry: StepTrace, name: str, tool_input: str):
    ctx.meter.reserve_calls(1)
    tool = ctx.runtime.tools.get(name)
    async with ctx.runtime.slots:
        result = await tool.run(tool_input, timeout=ctx.runtime.tool_timeout_s)
    entry.calls += 1
    return result


async def _run_tool(step: ToolStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    tool_input = render(step.input, env)
    entry.input = clip(tool_input)
    result = await _call_tool(ctx, entry, step.tool, tool_input)
    # A tool error is information for later steps (a critic, a retry), not the end of the execution.
    env[step.out] = result.output if result.ok else f"ERROR: {result.error}\n{result.output}".strip()
    entry.ok, entry.error = result.ok, result.error
    entry.output = clip(env[step.out])


async def _run_vote(step: VoteStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    samples = env[step.from_] if step.from_ in env else _missing(step.from_)
    samples = (samples if isinstance(samples, list) else [samples])[:MAX_VOTE_SAMPLES]
    answers = [extract_final_answer(str(s)[-MAX_VOTE_CHARS:]) for s in samples]
    counts = Counter(normalise_for_vote(a) for a in answers if a)
    if not counts:
        env[step.out] = ""
    else:
        winner = counts.most_common(1)[0][0]
        env[step.out] = next(a for a in answers if normalise_for_vote(a) == winner)
    entry.input = clip(" | ".join(answers))
    entry.output = env[step.out]
    entry.detail["votes"] = ", ".join(f"{k}×{v}" for k, v in counts.most_common(5))


async def _run_select(step: SelectStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    samples = env[step.from_] if step.from_ in env else _missing(step.from_)
    samples = samples if isinstance(samples, list) else [samples]
    listing = "\n\n".join(f"Candidate {i + 1}:\n{s}" for i, s in enumerate(samples))
    prompt = f"{render(step.prompt, env)}\n\n{listing}\n\nReply with 'Best: <number>' and nothing else."
    entry.input = clip(prompt)
    [reply] = (await _chat(ctx, entry, _messages("", prompt), alias=step.model, temperature=0.0, top_p=1.0,
                           max_tokens=step.max_tokens, n=1))[:1] or [""]
    match = re.search(r"(\d+)", reply)
    choice = int(match.group(1)) - 1 if match else 0
    choice = choice if 0 <= choice < len(samples) else 0
    env[step.out] = samples[choice] if samples else ""
    entry.output = clip(str(env[step.out]))
    entry.detail["chosen"] = choice + 1


async def _run_verify(step: VerifyStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    if step.method == "tool":
        tool_input = render(step.input, env)
        entry.input = clip(tool_input)
        result = await _call_tool(ctx, entry, step.tool, tool_input)
        passed, critique = result.ok, result.output if result.ok else (result.error or "tool failed")
    else:
        prompt = render(step.prompt, env)
        entry.input = clip(prompt)
        system = "You are a strict reviewer. Start your reply with PASS or FAIL."
        [reply] = (await _chat(ctx, entry, _messages(system, prompt), alias=step.model, temperature=0.0,
                               top_p=1.0, max_tokens=step.max_tokens, n=1))[:1] or [""]
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


_ACTION = re.compile(r"ACTION:\s*([\w\-]+)\s*\n\s*INPUT:\s*\n?(.*)", re.DOTALL | re.IGNORECASE)
_FINAL = re.compile(r"FINAL:\s*(.*)", re.DOTALL | re.IGNORECASE)


def agent_protocol(tool_names: list[str], catalog: dict[str, str]) -> str:
    described = "\n".join(f"- {name}: {catalog.get(name, '')}" for name in tool_names)
    return (
        "You can use these tools:\n" + described + "\n\nTo call a tool reply with exactly:\nACTION: <tool name>\n"
        "INPUT:\n<the tool input>\n\nWhen you are done reply with:\nFINAL: <your final answer>"
    )


async def _run_agent(step: AgentStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    catalog = {t: getattr(ctx.runtime.tools.get(t), "description", "") for t in step.tools}
    system = (render(step.system, env) + "\n\n" + agent_protocol(step.tools, catalog)).strip()
    messages = _messages(system, render(step.prompt, env))
    entry.input = clip(messages[-1]["content"])
    reply, turns = "", 0
    while turns < step.max_steps:
        turns += 1
        [reply] = (await _chat(ctx, entry, messages, alias=step.model, temperature=step.temperature,
                               top_p=step.top_p, max_tokens=step.max_tokens, n=1))[:1] or [""]
        action = _ACTION.search(reply)
        if _FINAL.search(reply) or not action or action.group(1) not in step.tools:
            break
        result = await _call_tool(ctx, entry, action.group(1), action.group(2).strip())
        observation = result.output if result.ok else f"ERROR: {result.error}"
        messages += [{"role": "assistant", "content": reply},
                     {"role": "user", "content": f"OBSERVATION:\n{clip(observation, 3000)}"}]
    final = _FINAL.search(reply)
    env[step.out] = final.group(1).strip() if final else reply
    entry.output = clip(env[step.out])
    entry.detail["turns"] = turns


def _missing(name: str):
    raise MissingVariable(name)


_HANDLERS = {
    "llm": _run_llm,
    "tool": _run_tool,
    "vote": _run_vote,
    "select": _run_select,
    "verify": _run_verify,
    "agent": _run_agent,
}
