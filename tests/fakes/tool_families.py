"""How OpenAI-compatible servers treat native tool calls and optional sampling knobs, for the fake server.

``no_tools`` says a server was started without tool support; combined with a server family, the
refusal is that server's own status and body, read from its source:

- ``llama_server`` + ``no_tools``: llama.cpp's server started without ``--jinja``. ``oaicompat_chat_params_parse``
  (tools/server/server-common.cpp) throws ``std::runtime_error("tools param requires --jinja flag")`` for a
  non-empty ``tools`` (and "tool_choice param requires --jinja flag" for a tool_choice other than "auto");
  ``ex_wrapper`` (tools/server/server.cpp) maps a runtime_error to ERROR_TYPE_SERVER: HTTP **500**,
  ``{"error": {"code": 500, "message": ..., "type": "server_error"}}``.
- ``vllm`` + ``no_tools``: vLLM without ``--enable-auto-tool-choice``/``--tool-call-parser``. The request model
  defaults ``tool_choice`` to "auto" when tools are given, and ``create_chat_completion``
  (vllm/entrypoints/openai/serving_chat.py) returns ``create_error_response('"auto" tool choice requires
  --enable-auto-tool-choice and --tool-call-parser to be set')``: HTTP 400, type "BadRequestError".
- ``ollama`` + ``no_tools``: an Ollama model whose template has no tools. ``CheckCapabilities`` (server/images.go)
  fails with "<model> does not support tools", ``handleScheduleError`` (server/routes.go) makes it a 400 and
  the OpenAI middleware wraps it with ``openai.NewError``: ``{"error": {"message": ..., "type":
  "invalid_request_error", "param": null, "code": null}}``.
- ``no_reasoning_effort``: OpenAI for a model without reasoning: 400 "Unsupported parameter:
  'reasoning_effort' is not supported with this model." (param "reasoning_effort", code "unsupported_parameter").

A server that honours tools answers in OpenAI's shape, which vLLM, llama.cpp (with ``--jinja``) and Ollama
(openai/openai.go ``ToChatCompletion``: finish_reason "tool_calls" when there are calls) all copy: the
assistant message has ``content`` null and ``tool_calls`` of ``{"id", "type": "function", "function":
{"name", "arguments": <JSON text>}}``. Like OpenAI, the fake refuses a conversation whose ``tool``
messages do not answer the preceding assistant's calls, so a runtime that loses a call id fails a test.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

TOOL_FAMILIES = {"no_tools", "no_reasoning_effort"}
REFUSING_SERVERS = ("llama_server", "vllm", "ollama")
"""The server families that can refuse ``tools``: combine one with ``no_tools``."""


def tools_refusal(families: set[str], body: dict) -> tuple[int, dict] | None:
    """``(status, error object)`` when this server family refuses the request, else None."""
    refuses_tools = bool(body.get("tools")) and "no_tools" in families
    if refuses_tools and "llama_server" in families:
        return 500, {"code": 500, "message": "tools param requires --jinja flag", "type": "server_error"}
    if refuses_tools and "vllm" in families:
        return 400, {"message": '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser '
                                "to be set", "type": "BadRequestError", "param": None, "code": 400}
    if refuses_tools and "ollama" in families:
        return 400, {"message": f"registry.ollama.ai/library/{body.get('model')}:latest does not support tools",
                     "type": "invalid_request_error", "param": None, "code": None}
    if "reasoning_effort" in body and "no_reasoning_effort" in families:
        return 400, {"message": "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                     "type": "invalid_request_error", "param": "reasoning_effort", "code": "unsupported_parameter"}
    return None


def conversation_problem(messages: list[dict]) -> str | None:
    """What OpenAI says about tool messages that do not answer the assistant's calls (None when they do)."""
    open_calls: set[str] = set()
    for m in messages:
        if m.get("role") == "tool":
            if m.get("tool_call_id") not in open_calls:
                return ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        "with 'tool_calls'.")
            open_calls.discard(m["tool_call_id"])
            continue
        if open_calls:
            return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: "
                    f"{', '.join(sorted(open_calls))}")
        if m.get("role") == "assistant":
            open_calls = {c["id"] for c in m.get("tool_calls") or []}
    return None


def tool_call_message(calls: list[tuple[str, str]], nth: int) -> dict[str, Any]:
    """The assistant message of a reply that calls tools: ``(name, input)`` pairs, OpenAI-style ids."""
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_" + hashlib.sha256(f"{nth}|{i}|{name}".encode()).hexdigest()[:24], "type": "function",
         "function": {"name": name, "arguments": json.dumps({"input": tool_input})}}
        for i, (name, tool_input) in enumerate(calls)]}
