"""A real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible endpoint of a given family.

Tests drive the *real* ``openai`` SDK against it, so the wire protocol, retries and timeouts are
exercised for real. Reuse it anywhere (the dashboard's "test connection", the CLI):

    with FakeOpenAIServer("json_object_only") as server:
        settings = settings_for(server)
        server.push_reply('{"answer": "5"}')
        ...
        assert server.chat_requests()[-1]["response_format"]["type"] == "json_object"

Families (combine several): ``strict`` (accepts json_schema; rejects malformed strict schemas as
OpenAI does), ``json_object_only``, ``text_only``, ``no_usage``, ``no_embeddings``,
``rate_limit_once``, ``server_error`` (500 for the first ``fail_times`` requests; None = always),
``truncated`` (content cut mid-way with finish_reason "length", first ``fail_times`` replies),
``prefix_cache`` (reports ``prompt_tokens_details.cached_tokens`` for the longest prompt prefix an earlier
request shared, in blocks of 128 tokens from 1024 up, as OpenAI's automatic prompt caching does),
``slow`` (sleeps ``slow_s`` before answering), ``no_n`` (ignores ``n``), ``unauthorised`` (401 on
everything), ``unknown_model`` (404 for chat), and the real server families below, each as its
source behaves:

* ``llama_cpp_python``: llama-cpp-python's server. ``ChatCompletionRequestResponseFormat.type`` is
  ``Literal["text", "json_object"]`` (llama_cpp/server/types.py) and its route error handler turns
  the validation error into HTTP 500 ``internal_server_error`` (llama_cpp/server/errors.py), so
  ``json_schema`` gets a 500 whose message is the pydantic ``literal_error``. ``json_object`` with a
  ``schema`` decodes under a grammar built from it: the reply is valid JSON of that schema.
* ``llama_cpp_old``: llama.cpp's ``server`` before json_schema support (utils.hpp,
  ``oaicompat_completion_params_parse``): ``json_schema`` throws "response_format type must be one of
  \"text\" or \"json_object\", but got: json_schema" (HTTP 500), and ``n`` != 1 throws "Only one
  completion choice is allowed".
* ``llama_server``: current llama.cpp (server-common.cpp, ``oaicompat_chat_params_parse``): both
  ``{"type": "json_schema", "json_schema": {"schema": ...}}`` and ``{"type": "json_object",
  "schema": ...}`` become a grammar; ``strict`` is not read.
* ``vllm``: vLLM's OpenAI server: ``json_schema`` and ``json_object`` by guided decoding; errors are
  ``{"object": "error", "message", "type": "BadRequestError", "code": 400}`` (entrypoints/openai).
* ``ollama``: Ollama's OpenAI layer (openai/openai.go): ``json_object`` -> ``format: "json"``,
  ``json_schema`` -> ``format: <schema>``; one choice whatever ``n`` asks.

Tool calling (:mod:`tests.fakes.tool_families`, each refusal as its source sends it): any server honours
``tools`` unless the ``no_tools`` modifier says it was started without them (``llama_server``: no
``--jinja``; ``vllm``: no tool parser; ``ollama``: a model without a tool template), and
``no_reasoning_effort`` refuses that knob as OpenAI does for models that do not reason.

Replies come from a queue (:meth:`push_reply`, :meth:`push_tool_calls`); when it is empty the server answers
with an instance of the requested JSON schema (from response_format or a schema in the messages), else "OK".
A server that decodes under a schema never sends text outside it: a queued reply that does not
validate is replaced by an instance of the schema, as a grammar would force.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import pytest

from tests.fakes.tool_families import TOOL_FAMILIES, conversation_problem, tool_call_message, tools_refusal

SERVERS = {"llama_cpp_python", "llama_cpp_old", "llama_server", "vllm", "ollama"}
FAMILIES = {"strict", "json_object_only", "text_only", "no_usage", "no_embeddings", "rate_limit_once",
            "server_error", "truncated", "slow", "no_n", "unauthorised", "unknown_model", "prefix_cache"} | SERVERS \
    | TOOL_FAMILIES
LLAMA_CPP_PYTHON_LITERAL_ERROR = (
    "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}")
FAKE_API_KEY = "sk-fake-test-key-0123456789"
EMBED_DIM = 8


@dataclass
class Reply:
    """One scripted choice: text, tool calls (``(name, input)`` pairs), or an HTTP error if ``status`` is set."""

    content: str = "OK"
    finish_reason: str = "stop"
    status: int | None = None
    error_message: str = "scripted error"
    tool_calls: list[tuple[str, str]] | None = None


def _instance(schema: dict, root: dict, depth: int = 0) -> Any:
    """A minimal value valid for ``schema``: enough for default replies to pass validation."""
    if depth > 12:
        return None
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return _instance(node, root, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _instance(schema[key][0], root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _instance(props[k], root, depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [_instance(schema["items"], root, depth + 1)] * schema.get("minItems", 0) if "items" in schema else []
    return {"string": "x", "integer": 0, "number": 0, "boolean": False, "null": None}.get(kind)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def _valid(content: str, schema: dict) -> bool:
    try:
        jsonschema.validate(json.loads(content), schema)
    except (ValueError, jsonschema.ValidationError, jsonschema.SchemaError):
        return False
    return True


def _schema_in_messages(messages: list[dict]) -> dict | None:
    decoder = json.JSONDecoder()
    for m in messages:
        text = m.get("content") if isinstance(m.get("content"), str) else ""
        for i, ch in enumerate(text):
            if ch == "{":
                try:
                    obj, _ = decoder.raw_decode(text, i)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "properties" in obj:
                    return obj
    return None


def _strict_problem(schema: Any, path: str = "") -> str | None:
    """What OpenAI says about a strict schema it refuses (objects must be closed, all fields required)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            if schema.get("additionalProperties") is not False:
                return f"In context=({path}), 'additionalProperties' is required to be supplied and to be false"
            if sorted(schema.get("required", [])) != sorted(schema.get("properties", {})):
                return f"In context=({path}), 'required' is required to include every key in properties"
        if "oneOf" in schema:
            return f"In context=({path}), 'oneOf' is not permitted"
        for k, v in schema.items():
            found = _strict_problem(v, f"{path},{k}" if path else k)
            if found:
                return found
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            found = _strict_problem(v, f"{path},{i}")
            if found:
                return found
    return None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up (the ``slow`` family) is expected, not news."""


class FakeOpenAIServer:
    def __init__(self, families: str | Iterable[str] = "strict", *, fail_times: int | None = 1,
                 slow_s: float = 2.0, models: Iterable[str] = ("fake-mini", "fake-pro"),
                 api_key: str | None = FAKE_API_KEY, retry_after_ms: int | None = 1):
        self.families = {families} if isinstance(families, str) else set(families)
        unknown = self.families - FAMILIES
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; known: {sorted(FAMILIES)}")
        self.fail_times, self.slow_s, self.models = fail_times, slow_s, list(models)
        self.api_key, self.retry_after_ms = api_key, retry_after_ms
        self.requests: list[dict] = []  # {"method", "path", "headers" (lower-case), "body"}, in order
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._counts = {"chat": 0, "errors": 0, "truncated": 0}
        self._prompts: list[str] = []  # what ``prefix_cache`` has seen
        self.in_flight = 0
        self.max_in_flight = 0  # most chat requests being handled at once (checks concurrency caps)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- scripting and inspection ---------------------------------------------------------------
    def push_reply(self, content: str | dict | Reply, finish_reason: str = "stop") -> None:
        if isinstance(content, dict):
            content = json.dumps(content)
        self._replies.append(content if isinstance(content, Reply) else Reply(content, finish_reason))

    def push_tool_calls(self, *calls: tuple[str, str]) -> None:
        """Script a reply that calls tools, as a server that honours ``tools`` sends it."""
        self._replies.append(Reply(content="", finish_reason="tool_calls", tool_calls=list(calls)))

    def chat_requests(self) -> list[dict]:
        """Bodies of the chat-completion requests received, in order."""
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def next_reply(self, body: dict, grammar: dict | None = None) -> Reply:
        """The next queued reply, or a schema instance. ``grammar``: the schema the server decodes under."""
        with self._lock:
            queued = self._replies.popleft() if self._replies else None
        if queued is not None and (queued.status is not None or grammar is None or _valid(queued.content, grammar)):
            return queued
        rf = body.get("response_format") or {}
        schema = grammar or (rf.get("json_schema") or {}).get("schema") or rf.get("schema") or \
            _schema_in_messages(body.get("messages", []))
        return Reply(json.dumps(_instance(schema, schema)) if schema else "OK")

    def cached_tokens(self, body: dict) -> int:
        """Tokens of the longest prefix this prompt shares with an earlier one (128-token blocks, >= 1024)."""
        prompt = json.dumps(body.get("messages", []))
        with self._lock:
            shared = max((_common_prefix(prompt, earlier) for earlier in self._prompts), default=0)
            self._prompts.append(prompt)
        tokens = shared // 4
        return tokens // 128 * 128 if tokens >= 1024 else 0

    def count(self, what: str) -> int:
        with self._lock:
            self._counts[what] += 1
            return self._counts[what]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error"}.get(status, "server_error")
        if "vllm" in self.fake.families:  # vLLM's ErrorResponse is flat
            return self._send(status, {"object": "error", "message": message, "type": "BadRequestError",
                                       "param": None, "code": status}, headers)
        self._send(status, {"error": {"message": message, "type": kind, **extra}}, headers)

    def _retry_headers(self) -> dict[str, str]:
        headers = {"Retry-After": "0"}
        if self.fake.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.fake.retry_after_ms)
        return headers

    def _authorised(self) -> bool:
        wrong_key = self.fake.api_key and self.headers.get("Authorization") != f"Bearer {self.fake.api_key}"
        if wrong_key or "unauthorised" in self.fake.families:
            self._error(401, "Incorrect API key provided.")
            return False
        return True

    def _record(self, body: dict | None) -> None:
        with self.fake._lock:
            self.fake.requests.append({"method": self.command, "path": self.path,
                                       "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": body})

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._record(None)
        if not self._authorised():
            return
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"}
                                                         for m in self.fake.models]})
        else:
            self._error(404, f"no route for GET {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._error(400, "body is not JSON")
            return
        self._record(body)
        if not self._authorised():
            return
        if self.path.endswith("/chat/completions"):
            self._chat(body)
        elif self.path.endswith("/embeddings"):
            self._embeddings(body)
        else:
            self._error(404, f"no route for POST {self.path}")

    def _chat(self, body: dict) -> None:
        fake = self.fake
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            self._chat_reply(body)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _chat_reply(self, body: dict) -> None:
        fake, fam = self.fake, self.fake.families
        nth = fake.count("chat")
        if "slow" in fam:
            time.sleep(fake.slow_s)
        if "rate_limit_once" in fam and nth == 1:
            return self._error(429, "Rate limit reached for requests", self._retry_headers(),
                               code="rate_limit_exceeded")
        if "server_error" in fam and (fake.fail_times is None or fake.count("errors") <= fake.fail_times):
            return self._error(500, "The server had an error while processing your request.", self._retry_headers())
        if "unknown_model" in fam:
            return self._error(404, f"The model `{body.get('model')}` does not exist or you do not have access "
                                    "to it.", code="model_not_found")
        if problem := conversation_problem(body.get("messages", [])):
            return self._error(400, problem, param="messages")
        if refused := tools_refusal(fam, body):
            return self._send(refused[0], {"error": refused[1]})
        refusal = self._server_refusal(body)
        if refusal is not None:
            return refusal
        rf_type = (body.get("response_format") or {}).get("type")
        if rf_type and "text_only" in fam:
            return self._error(400, "'response_format' is not supported by this server", param="response_format")
        if rf_type == "json_schema" and "json_object_only" in fam:
            return self._error(400, "response_format type 'json_schema' is not supported; use 'json_object'",
                               param="response_format")
        if "schema" in (body.get("response_format") or {}) and "json_object_only" in fam:
            return self._error(400, "Unrecognized request argument supplied: response_format.schema",
                               param="response_format")
        if rf_type == "json_schema" and body["response_format"]["json_schema"].get("strict"):
            problem = _strict_problem(body["response_format"]["json_schema"].get("schema"))
            if problem:
                name = body["response_format"]["json_schema"].get("name")
                return self._error(400, f"Invalid schema for response_format '{name}': {problem}",
                                   param="response_format")
        n = 1 if fam & {"no_n", "ollama", "llama_cpp_python"} else int(body.get("n") or 1)
        grammar = self._grammar(body)
        choices = []
        for i in range(n):
            reply = fake.next_reply(body, grammar)
            if reply.status is not None:
                return self._error(reply.status, reply.error_message)
            content, reason = reply.content, reply.finish_reason
            if "truncated" in fam and (fake.fail_times is None or fake.count("truncated") <= fake.fail_times):
                content, reason = content[: max(1, len(content) // 2)], "length"
            message = ({"role": "assistant", "content": content} if reply.tool_calls is None
                       else tool_call_message(reply.tool_calls, nth))
            choices.append({"index": i, "message": message, "finish_reason": reason, "logprobs": None})
        payload: dict[str, Any] = {"id": f"chatcmpl-fake-{nth}", "object": "chat.completion",
                                   "created": int(time.time()), "model": body.get("model"), "choices": choices}
        if "no_usage" not in fam:
            prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4 + 1
            completion = sum(len(json.dumps(c["message"])) // 4 + 1 for c in choices)
            payload["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion}
            if "prefix_cache" in fam:
                payload["usage"]["prompt_tokens_details"] = {"cached_tokens": min(fake.cached_tokens(body), prompt)}
        self._send(200, payload)

    def _server_refusal(self, body: dict) -> None | bool:
        """How a real server family refuses a request it cannot take (None when it takes it)."""
        fam, rf_type = self.fake.families, (body.get("response_format") or {}).get("type")
        if "llama_cpp_python" in fam and rf_type == "json_schema":
            self._error(500, LLAMA_CPP_PYTHON_LITERAL_ERROR, type="internal_server_error", param=None, code=None)
            return True
        if "llama_cpp_old" in fam and rf_type == "json_schema":
            self._error(500, 'response_format type must be one of "text" or "json_object", but got: json_schema')
            return True
        if "llama_cpp_old" in fam and int(body.get("n") or 1) != 1:
            self._error(500, "Only one completion choice is allowed")
            return True
        return None

    def _grammar(self, body: dict) -> dict | None:
        """The schema a server family decodes under for this request (None: free text)."""
        fam, rf = self.fake.families, body.get("response_format") or {}
        decodes = fam & {"llama_cpp_python", "llama_cpp_old", "llama_server", "vllm", "ollama"}
        if not decodes:
            return None
        if rf.get("type") == "json_object" and fam & {"llama_cpp_python", "llama_cpp_old", "llama_server"}:
            return rf.get("schema") or {"type": "object"}
        if rf.get("type") == "json_object":
            return {"type": "object"}
        if rf.get("type") == "json_schema":
            return (rf.get("json_schema") or {}).get("schema") or {"type": "object"}
        return None

    def _embeddings(self, body: dict) -> None:
        if "no_embeddings" in self.fake.families:
            return self._error(404, "This server does not serve /v1/embeddings")
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = [{"object": "embedding", "index": i,
                 "embedding": [(b - 128) / 128 for b in hashlib.sha256(t.encode()).digest()[:EMBED_DIM]]}
                for i, t in enumerate(inputs)]
        tokens = sum(len(t) // 4 + 1 for t in inputs)
        self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def settings_for(server: FakeOpenAIServer, *, timeout_s: float = 5.0, max_retries: int = 2,
                 embedding_model: str | None = None, **endpoint: Any):
    """Settings whose default endpoint is ``server``: aliases small/large -> fake-mini/fake-pro."""
    from egur_core.llm.config import EndpointConfig, ModelSpec, Settings

    return Settings(
        endpoints={"default": EndpointConfig(base_url=server.base_url, api_key=server.api_key,
                                             timeout_s=timeout_s, max_retries=max_retries, **endpoint)},
        models={"small": ModelSpec(alias="small", model="fake-mini", price_in=0.15, price_out=0.60),
                "large": ModelSpec(alias="large", model="fake-pro", price_in=2.50, price_out=10.00)},
        roles={"guide": "large", "executor": "small", "consolidator": "large"},
        embedding_model=embedding_model,
    )


@pytest.fixture
def openai_server(request: pytest.FixtureRequest) -> Iterator[FakeOpenAIServer]:
    """``@pytest.mark.parametrize("openai_server", ["no_n"], indirect=True)`` picks the family."""
    families = getattr(request, "param", "strict")
    with FakeOpenAIServer(families) as server:
        yield server
