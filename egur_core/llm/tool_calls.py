"""Native tool calling that works on every endpoint: offer ``tools``, fall back to a text protocol.

An agent turn offers the tools natively (``tools=`` with JSON-schema definitions), which every major
server supports and small models are trained for. Servers that will not take them say so (llama.cpp
without ``--jinja``, vLLM without a tool parser, Ollama models without tool templates; see
``errors.refuses_tools``): the client remembers that endpoint and model and, from then on, sends the
same conversation as the text protocol (``ACTION``/``INPUT``/``FINAL``, :mod:`egur_core.strategy.tool_protocol`)
and parses the replies back into tool calls. Either way the caller sees ``ChatResult.tool_calls``.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Literal

from egur_core.llm.config import ModelSpec
from egur_core.llm.errors import LLMError, refuses_tools
from egur_core.llm.results import ChatResult, Sampling, ToolCall
from egur_core.llm.structured import TRANSIENT
from egur_core.strategy.tool_protocol import (
    action_text,
    arguments_for,
    input_from_arguments,
    observation_text,
    parse_action,
    text_protocol,
)

if TYPE_CHECKING:
    from egur_core.llm.client import LLMClient

log = logging.getLogger("egur.llm")
ToolMode = Literal["native", "text"]


async def tool_turn(client: LLMClient, spec: ModelSpec, role: str, messages: list[dict], sampling: Sampling,
                    tools: list[dict]) -> ChatResult:
    """One agent turn with ``tools`` offered: natively unless this endpoint+model is known to refuse them."""
    if client.tool_mode(spec) != "text":
        try:
            return await _native_turn(client, spec, role, messages, sampling, tools)
        except LLMError as err:
            if not refuses_tools(err):
                raise
            client.remember_tool_mode(spec, "text")
            log.info("endpoint %r refused native tools for %r (%s); using the text protocol", spec.endpoint,
                     spec.model, err.detail[:120])
    result = await client.complete(spec, role, as_text_protocol(messages, tools), sampling)
    return parse_text_turn(result, messages)


async def _native_turn(client: LLMClient, spec: ModelSpec, role: str, messages: list[dict], sampling: Sampling,
                       tools: list[dict]) -> ChatResult:
    """Until tools are known to work here, a request goes out without the SDK's retries, so a refusal (which
    llama.cpp sends as a 500) steps down at once; any other failure is then retried as usual."""
    if client.tool_mode(spec) == "native":
        result = await client.complete(spec, role, messages, sampling, tools=tools)
    else:
        try:
            result = await client.complete(spec, role, messages, sampling, retries=0, tools=tools)
        except LLMError as err:
            if err.kind not in TRANSIENT or refuses_tools(err):
                raise
            result = await client.complete(spec, role, messages, sampling, tools=tools)
        client.remember_tool_mode(spec, "native")
    return result.model_copy(update={"tool_mode": "native"})


def as_text_protocol(messages: list[dict], tools: list[dict]) -> list[dict]:
    """The conversation for a server without native tools: the protocol in the system message, each tool
    call as an ``ACTION`` and each result as an ``OBSERVATION``."""
    out: list[dict] = []
    for message in copy.deepcopy(messages):
        calls = message.get("tool_calls") or []
        if message.get("role") == "assistant" and calls:
            said = [message.get("content") or ""] + [action_text(c["function"]["name"],
                                                                 input_from_arguments(c["function"]["arguments"]))
                                                     for c in calls]
            out.append({"role": "assistant", "content": "\n".join(s for s in said if s)})
        elif message.get("role") == "tool":
            out.append({"role": "user", "content": observation_text(str(message.get("content") or ""))})
        else:
            out.append(message)
    protocol = text_protocol(tools)
    system = next((m for m in out if m.get("role") == "system" and isinstance(m.get("content"), str)), None)
    if system is None:
        return [{"role": "system", "content": protocol}, *out]
    system["content"] = (system["content"].rstrip() + "\n\n" + protocol).strip()
    return out


def parse_text_turn(result: ChatResult, messages: list[dict]) -> ChatResult:
    """A text-protocol reply as a tool call (when it asks for one) or a final answer."""
    text = result.texts[0] if result.texts else ""
    action = parse_action(text)
    calls: list[ToolCall] = []
    if action is not None:
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        calls = [ToolCall(id=f"text_call_{turn}", name=action[0], arguments=arguments_for(action[1]))]
    return result.model_copy(update={"tool_calls": calls, "tool_mode": "text"})
