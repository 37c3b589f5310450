"""Budgets hold against hostile strategies and slow servers: the wall clock, steps, trace, tokens, size."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from egur_core.app.services import build_client, build_tools
from egur_core.llm import EndpointConfig, LLMError, ModelSpec, Settings, simulated_settings
from egur_core.runtime.engine import Runtime
from egur_core.strategy.limits import MAX_NESTING, MAX_STEPS, MAX_TEMPLATE_CHARS
from egur_core.strategy.model import Strategy
from egur_core.strategy.validation import validate_strategy

pytestmark = pytest.mark.timeout(60)

SLACK_S = 5.0
"""Room for a loaded CI machine: unbounded, these strategies would run for hours, so a few seconds past the
budget still tells a budget that holds from one that does not."""


def _nested_votes(depth: int, max_seconds: float) -> Strategy:
    """``depth`` loops of 20 rounds, each round voting: 20**depth vote steps that never await."""
    body: list[dict] = [{"id": "v0", "op": "vote", "from": "problem", "out": "pick"}]
    for level in range(depth):
        body = [{"id": f"loop{level}", "op": "loop", "max_iters": 20, "body": body},
                {"id": f"v{level + 1}", "op": "vote", "from": "problem", "out": "pick"}]
    steps = [*body, {"id": "final", "op": "answer", "from": "pick"}]
    return Strategy.model_validate({"name": "nested-votes", "budget": {"max_seconds": max_seconds}, "steps": steps})


def _execute(strategy: Strategy, **runtime_options) -> tuple:
    async def go():
        client = build_client(simulated_settings())
        try:
            runtime = Runtime(client, build_tools(), **runtime_options)
            return await runtime.execute(strategy, "1 + 1 = ?\nThe answer is 2")
        finally:
            await client.aclose()

    start = time.monotonic()
    result = asyncio.run(go())
    return result, time.monotonic() - start


def test_six_nested_loops_of_votes_stop_at_the_step_cap_quickly():
    result, seconds = _execute(_nested_votes(6, max_seconds=3))
    assert not result.ok and "steps executed" in result.error
    assert seconds < 3 + SLACK_S and len(result.trace) <= 2_001


def test_max_seconds_holds_for_steps_that_never_await():
    result, seconds = _execute(_nested_votes(6, max_seconds=1), max_steps=10**9)
    assert not result.ok and "wall time over 1 s" in result.error
    assert seconds < 1 + SLACK_S


def test_a_call_whose_prompt_cannot_fit_the_token_budget_is_not_sent():
    strategy = Strategy.model_validate({"name": "big-prompt", "budget": {"max_tokens": 1000}, "steps": [
        {"id": "ask", "op": "llm", "prompt": "{problem}", "out": "r"}, {"id": "final", "op": "answer", "from": "r"}]})

    async def go():
        client = build_client(simulated_settings())
        try:
            result = await Runtime(client, build_tools()).execute(strategy, "x" * 20_000)
            return result, client
        finally:
            await client.aclose()

    result, _ = asyncio.run(go())
    assert not result.ok and "the call was not sent" in result.error and result.calls == 1
    assert result.tokens_in == 0 and result.cost_usd == 0


def test_a_million_step_strategy_is_refused_at_once_naming_the_limit():
    steps = [{"id": f"s{i}", "op": "vote", "from": "problem", "out": "x"} for i in range(1_000_000)]
    start = time.monotonic()
    strategy, issues = validate_strategy({"name": "huge", "steps": steps})
    assert strategy is None and time.monotonic() - start < 2.0
    assert f"the limit is {MAX_STEPS}" in issues[0].message


def test_loops_nested_too_deep_are_refused_naming_the_limit():
    data = _nested_votes(MAX_NESTING + 1, 10).to_json_dict()
    strategy, issues = validate_strategy(data)
    assert strategy is None and any(f"the limit is {MAX_NESTING}" in i.message for i in issues)


def test_an_oversized_prompt_template_is_refused_naming_the_limit():
    data = {"name": "long", "steps": [{"id": "a", "op": "llm", "prompt": "x" * (MAX_TEMPLATE_CHARS + 1), "out": "r"},
                                      {"id": "f", "op": "answer", "from": "r"}]}
    _, issues = validate_strategy(data)
    assert issues[0].path == "$.steps[0].prompt" and f"the limit is {MAX_TEMPLATE_CHARS:,}" in issues[0].message


class _Trickle(BaseHTTPRequestHandler):
    """Answers every chat request with a valid reply, one byte a second."""

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (b'{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [{"index": 0, '
                b'"message": {"role": "assistant", "content": "slow"}, "finish_reason": "stop"}]}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1.0)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def trickling_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_server_trickling_one_byte_a_second_cannot_hold_a_call_past_its_deadline(trickling_server):
    settings = Settings(endpoints={"default": EndpointConfig(base_url=trickling_server, timeout_s=2.0, max_retries=1)},
                        models={"m": ModelSpec(alias="m", model="m")},
                        roles={"guide": "m", "executor": "m", "consolidator": "m"})

    async def go():
        client = build_client(settings)
        try:
            await client.chat([{"role": "user", "content": "hi"}], alias="m", role="executor")
        finally:
            await client.aclose()

    start = time.monotonic()
    with pytest.raises(LLMError) as caught:
        asyncio.run(go())
    assert caught.value.kind == "timeout" and time.monotonic() - start < 6.0
