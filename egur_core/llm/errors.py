"""Model-call failures: one exception type with a few actionable kinds, and how to read the SDK's.

A run must be able to tell "wait and retry later" (rate_limit, timeout, server, connection) from
"fix the configuration" (auth, bad_request) from "the model said something unusable" (bad_reply),
and show a person one clear line that never contains the API key. Some 400s are not failures but
hints about what an endpoint or model accepts (``n``, ``max_completion_tokens``, sampling
parameters); they are recognised here so the client can adapt and remember.
"""

from __future__ import annotations

import re
from typing import Any

import openai

from egur_core.llm.config import EndpointConfig, redact_url
from egur_core.strategy.sampling import OPTIONAL_PARAMS

OPENAI_BASE_URL = "https://api.openai.com/v1"


class LLMError(Exception):
    """A model call that failed for good (after retries). ``str()`` is one clear, key-free line."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, endpoint: str | None = None,
                 model: str | None = None, detail: str = ""):
        super().__init__(message)
        self.kind, self.status, self.endpoint, self.model = kind, status, endpoint, model
        self.detail = detail or message  # the server's own words, for deciding what to try next


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else inner
        if msg:
            return str(msg)
    return str(body or exc.message)


def to_llm_error(exc: Exception, ep: EndpointConfig, model: str) -> LLMError:
    """Translate SDK exceptions into the few kinds a run can act on, with a human message."""
    url = redact_url(ep.base_url) or ("simulated" if ep.simulated else OPENAI_BASE_URL)
    where = f"endpoint '{ep.name}' ({url}), model '{model}'"
    retries = f"after {ep.max_retries} retries"
    status: int | None = getattr(exc, "status_code", None)
    detail = _server_message(exc) if isinstance(exc, openai.APIStatusError) else str(exc)
    if isinstance(exc, openai.APITimeoutError):
        kind, msg = "timeout", f"no reply within {ep.timeout_s:g}s {retries} from {where}"
    elif isinstance(exc, openai.APIConnectionError):
        kind, msg = "connection", f"could not connect to {where} {retries}: is the server running and the URL right?"
    elif isinstance(exc, openai.RateLimitError) and "insufficient_quota" in f"{detail} {exc.body}":
        kind, msg = "quota", f"out of quota (HTTP 429) at {where}: {_server_message(exc)}"
    elif isinstance(exc, openai.RateLimitError):
        kind, msg = "rate_limit", f"rate limited (HTTP 429) {retries} by {where}: {_server_message(exc)}"
    elif isinstance(exc, openai.NotFoundError):
        kind, msg = "not_found", (f"not found (HTTP 404) at {where}: {_server_message(exc)}; is the model name "
                                  "right and the base URL the API's (usually ending in /v1)?")
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        kind, msg = "auth", f"the API key was refused (HTTP {status}) by {where}: check the key or its api_key_env"
    elif isinstance(exc, openai.APIStatusError) and (status or 0) >= 500:
        kind, msg = "server", f"server error (HTTP {status}) {retries} from {where}: {_server_message(exc)}"
    elif isinstance(exc, openai.APIStatusError):
        kind, msg = "bad_request", f"request rejected (HTTP {status}) by {where}: {_server_message(exc)}"
    else:
        kind, msg = "bad_reply", f"unreadable reply from {where}: {type(exc).__name__}: {exc}"
    key = ep.api_key.get_secret_value() if ep.api_key else None
    msg = " ".join(msg.split())[:600]
    if key:
        msg, detail = msg.replace(key, "***"), detail.replace(key, "***")
    return LLMError(kind, msg, status=status, endpoint=ep.name, model=model, detail=detail[:2000])


def is_n_complaint(err: LLMError) -> bool:
    return err.kind in ("bad_request", "server") and bool(re.search(r"\bn\b|n\s*>\s*1|choices?\b", err.detail))


# OpenAI: "Unsupported parameter: 'reasoning_effort' is not supported with this model." (older servers:
# "Unrecognized request argument supplied: seed"); the parameter is named, so only that one is dropped.
_NAMED_PARAM = re.compile(r"(?:unsupported parameter|unrecognized request argument supplied|unknown parameter)\W+"
                          r"'?(\w+)'?|'(\w+)' is not supported", re.I)
DROP = "drop:"

# A server that will not take native tools says so in its own words (citing the source of each):
#  llama.cpp server without --jinja, HTTP 500: "tools param requires --jinja flag"
#    (tools/server/server-common.cpp, oaicompat_chat_params_parse; ex_wrapper turns the runtime_error into a 500)
#  vLLM without --enable-auto-tool-choice, HTTP 400: '"auto" tool choice requires --enable-auto-tool-choice and
#    --tool-call-parser to be set' (vllm/entrypoints/openai/serving_chat.py; tools imply tool_choice "auto")
#  Ollama, a model whose template has no tools, HTTP 400: "<model> does not support tools"
#    (server/images.go CheckCapabilities, server/routes.go handleScheduleError, openai.NewError)
_TOOLS_COMPLAINT = re.compile(
    r"\b(?:tools?|tool[ _]choice|tool[ _-]call\w*|function[ _-]call\w*)\b[^.]*?"
    r"(?:requires|not supported|unsupported|not enabled|jinja)"
    r"|(?:does not|doesn't|do not) support (?:tools|tool[ _-]call\w*|function[ _-]call\w*)", re.I)


def param_quirk(err: LLMError) -> str | None:
    """Recognise 400s that some models give for standard parameters (e.g. OpenAI reasoning models)."""
    if err.kind != "bad_request":
        return None
    if "max_completion_tokens" in err.detail:
        return "max_completion_tokens"
    named = _NAMED_PARAM.search(err.detail)
    name = next((g for g in named.groups() if g), None) if named else None
    if name in OPTIONAL_PARAMS:
        return DROP + name
    if re.search(r"(temperature|top_p).*(unsupported|not supported|only the default)|"
                 r"(unsupported|not supported).*(temperature|top_p)", err.detail, re.I | re.S):
        return "default_sampling"
    return None


def refuses_tools(err: LLMError) -> bool:
    """Did the endpoint refuse native tool calling (rather than fail for another reason)?"""
    return err.kind in ("bad_request", "server") and bool(_TOOLS_COMPLAINT.search(err.detail))


def apply_quirks(params: dict[str, Any], quirks: set[str]) -> dict[str, Any]:
    params = dict(params)
    if "max_completion_tokens" in quirks:
        params["max_completion_tokens"] = params.pop("max_tokens")
    if "default_sampling" in quirks:
        params.pop("temperature", None)
        params.pop("top_p", None)
    for quirk in quirks:
        if quirk.startswith(DROP):
            params.pop(quirk.removeprefix(DROP), None)
    return params


MAX_PROMPT_CHARS = 4_000_000  # ~1M tokens: above any context window; a bigger request is a bug or an attack


def refuse_oversized(messages: list[dict], endpoint: str) -> None:
    """Raise before sending a request no endpoint could take (a 20 MB prompt would otherwise go out)."""
    size = sum(len(str(m.get("content") or "")) for m in messages)
    if size > MAX_PROMPT_CHARS:
        raise LLMError("bad_request", f"prompt of {size:,} characters is over the limit of {MAX_PROMPT_CHARS:,}; "
                       "it was not sent", endpoint=endpoint)
