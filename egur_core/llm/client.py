"""The one door to every model: an async client over the real ``openai`` SDK.

Any OpenAI-compatible endpoint works because nothing here is vendor-specific: differences between
endpoints (no ``n``, no JSON schema, no embeddings, no ``usage``) are discovered per endpoint,
remembered, and worked around. Retries and timeouts are the SDK's own (exponential backoff that
honours ``Retry-After``); this module adds pricing, a global concurrency cap, a total deadline per
call, clear errors, and a :class:`CallRecord` for every call so cost can be split by role. (A little
over 300 lines: it is the one door every request goes through, kept whole on purpose.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from pydantic import BaseModel

from egur_core.llm.cache import CachedReply, ResponseCache, endpoint_identity
from egur_core.llm.capabilities import CapabilityMemory
from egur_core.llm.config import EndpointConfig, ModelSpec, Settings, redact_url
from egur_core.llm.errors import (
    OPENAI_BASE_URL,
    LLMError,
    apply_quirks,
    is_n_complaint,
    param_quirk,
    refuse_oversized,
    to_llm_error,
)
from egur_core.llm.modes import MODES, Mode
from egur_core.llm.pricing import Usage, estimate_prompt_tokens, estimate_tokens, price_cost
from egur_core.llm.probe import probe_endpoint
from egur_core.llm.results import CallRecord, ChatResult, Sampling, ToolCall, merge_results, read_choices, read_usage
from egur_core.llm.structured import StructuredResult, negotiate
from egur_core.llm.tool_calls import ToolMode, tool_turn

log = logging.getLogger("egur.llm")

SIMULATED_BASE_URL = "http://simulated.local/v1"
NO_KEY = "no-key"  # local servers need no key, but the SDK insists on one
EMBED_BATCH = 128
PROMPT_ESTIMATE_MARGIN = 1.25  # characters/4 undercounts digits and code; a budget must not

__all__ = ["LLMClient"]


@dataclass
class _LoopState:
    sem: asyncio.Semaphore
    sdks: dict[str, openai.AsyncOpenAI] = field(default_factory=dict)


class LLMClient:
    """Async, shareable by concurrent tasks; one SDK client per endpoint, built lazily per event loop."""

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None,
                 transports: Mapping[str, httpx2.AsyncBaseTransport] | None = None,
                 transport_identity: str | None = None, local_embed: Callable[[str], list[float]] | None = None,
                 on_call: Callable[[CallRecord], None] | None = None, cache: ResponseCache | None = None,
                 capabilities: CapabilityMemory | None = None):
        """``transport`` answers every request in place of the network (a test's mock), ``transports`` those
        of the named endpoints (the simulated model's); ``transport_identity`` says who answers through them,
        for the response cache's keys. ``local_embed`` serves :meth:`embed` where no endpoint serves
        embeddings. The composition root (``egur_core.app.services.build_client``) wires these; nothing in
        this package knows the simulator."""
        self.settings = settings
        self.cache = cache  # record/replay of replies (egur_core.llm.cache); None: always call the model
        self._transport = transport
        self._transports = dict(transports or {})
        self.transport_identity = transport_identity
        self._local_embed = local_embed
        self._on_call = on_call
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
        self.model_quirks: dict[tuple[str, str], set[str]] = {}  # (endpoint, model) -> parameter workarounds
        self.capabilities = capabilities  # what endpoints accepted, kept in the memory file; None: this process only
        self._modes: dict[tuple[str, str, str], str] = {}  # capability key -> what this process learned
        self.no_n_endpoints: set[str] = set()
        self.no_embedding_endpoints: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------
    def endpoint_config(self, name: str) -> EndpointConfig:
        try:
            return self.settings.endpoints[name]
        except KeyError:
            raise KeyError(f"unknown endpoint {name!r}; configured: {', '.join(self.settings.endpoints)}") from None

    def _state(self) -> _LoopState:
        """SDK clients and the semaphore belong to one event loop: each loop (thread, run) gets its own."""
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            self._loops[loop] = _LoopState(asyncio.Semaphore(self.settings.concurrency))
        return self._loops[loop]

    def sdk(self, endpoint: str) -> openai.AsyncOpenAI:
        sdks = self._state().sdks
        if endpoint not in sdks:
            ep = self.endpoint_config(endpoint)
            transport = self._transports.get(endpoint, self._transport)
            if ep.simulated and transport is None:
                raise LLMError("config", f"endpoint {endpoint!r} is the simulated model, but this client was built "
                               "without its transport (build clients with egur_core.app.services.build_client)")
            sdks[endpoint] = openai.AsyncOpenAI(
                api_key="sim" if ep.simulated else (ep.api_key.get_secret_value() if ep.api_key else NO_KEY),
                base_url=SIMULATED_BASE_URL if ep.simulated else (ep.base_url or OPENAI_BASE_URL),
                timeout=ep.timeout_s,
                max_retries=ep.max_retries,
                http_client=httpx2.AsyncClient(transport=transport, timeout=ep.timeout_s) if transport else None,
            )
        return sdks[endpoint]

    def _report(self, record: CallRecord) -> None:
        log.debug("model call %s/%s ok=%s %.2fs $%.6f", record.role, record.alias, record.ok,
                  record.latency_s, record.cost_usd)
        if self._on_call is not None:
            try:
                self._on_call(record)
            except Exception:  # accounting must never break the call it accounts for
                log.exception("on_call callback failed")

    def cost(self, alias: str, usage: Usage) -> float:
        """Dollars for ``usage`` on ``alias``'s model (0 when its price is unknown: ``settings.price_of`` says)."""
        return price_cost(self.settings.price_of(alias), usage)

    # -- the single path every chat request takes ------------------------------------------------
    async def complete(self, spec: ModelSpec, role: str, messages: list[dict], sampling: Sampling, *,
                       response_format: dict | None = None, structured_mode: str | None = None,
                       retries: int | None = None, tools: list[dict] | None = None) -> ChatResult:
        """One chat-completions request (the SDK retries inside it, ``retries`` times when given, else the
        endpoint's ``max_retries``), priced and reported; ``tools`` offers native tool definitions."""
        params: dict[str, Any] = {"model": spec.model, "messages": messages, **sampling.params()}
        params |= {"response_format": response_format} if response_format is not None else {}
        params |= {"tools": tools} if tools else {}
        via_transport = self._transport is not None or spec.endpoint in self._transports
        identity = endpoint_identity(self.settings, spec.endpoint, self.transport_identity if via_transport else None)
        ticket = self.cache.claim(identity, params) if self.cache else None
        if ticket is not None and ticket.hit is not None:
            return self._replay(ticket.hit, spec, role, structured_mode)
        key = (spec.endpoint, spec.model)
        while True:
            try:
                result = await self._complete_once(spec, role, messages, params, structured_mode, retries)
                if ticket is not None:
                    ticket.save(result)
                return result
            except LLMError as err:
                quirk = param_quirk(err)
                if quirk is None or quirk in self.model_quirks.get(key, set()):
                    raise
                log.info("model %r refused a parameter; retrying with %s", spec.model, quirk)
                self.model_quirks.setdefault(key, set()).add(quirk)

    async def _complete_once(self, spec: ModelSpec, role: str, messages: list[dict], params: dict[str, Any],
                             structured_mode: str | None, retries: int | None) -> ChatResult:
        ep = self.endpoint_config(spec.endpoint)
        sdk = self.sdk(spec.endpoint)
        if retries is not None:
            sdk = sdk.with_options(max_retries=retries)
        params = apply_quirks(params, self.model_quirks.get((spec.endpoint, spec.model), set()))
        start, deadline = time.perf_counter(), ep.call_deadline()
        try:
            refuse_oversized(messages, ep.name)
            async with self._state().sem:
                async with asyncio.timeout(deadline):  # the whole call, not only the gap between bytes
                    completion = await sdk.chat.completions.create(**params)
            texts, reasons, tool_calls = read_choices(completion)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an LLMError and a record
            if isinstance(exc, LLMError):
                err = exc
            elif isinstance(exc, TimeoutError):
                err = LLMError("timeout", f"no complete reply within {deadline:g}s from endpoint {ep.name!r} (it "
                               "stalled or sent too slowly); the call was abandoned", endpoint=ep.name,
                               model=spec.model)
            elif isinstance(exc, openai.OpenAIError | ValueError | TypeError | AttributeError):
                err = to_llm_error(exc, ep, spec.model)
            else:
                raise
            self._report(CallRecord(role=role, alias=spec.alias, model=spec.model, usage=Usage(), cost_usd=0.0,
                                    latency_s=time.perf_counter() - start, ok=False, error=str(err),
                                    structured_mode=structured_mode))
            raise err from None
        latency = time.perf_counter() - start
        usage = read_usage(completion, messages, texts + [c.arguments for c in tool_calls])
        cost = price_cost(self.settings.price_of(spec.alias), usage)
        self._report(CallRecord(role=role, alias=spec.alias, model=spec.model, usage=usage, cost_usd=cost,
                                latency_s=latency, ok=True, structured_mode=structured_mode))
        return ChatResult(texts=texts, finish_reasons=reasons, usage=usage, cost_usd=cost, latency_s=latency,
                          model=spec.model, alias=spec.alias, role=role, tool_calls=tool_calls)

    def _replay(self, hit: CachedReply, spec: ModelSpec, role: str, structured_mode: str | None) -> ChatResult:
        """A cached reply, replayed exactly: the billing record says $0 and ``cached`` (nothing was paid), while
        the result keeps the recorded list cost, because strategies and the Consolidator act on cost (budgets,
        "cheapest right strategy") and a replay that saw $0 would take different decisions."""
        self._report(CallRecord(role=role, alias=spec.alias, model=spec.model, usage=hit.usage, cost_usd=0.0,
                                latency_s=0.0, ok=True, structured_mode=structured_mode, cached=True))
        return ChatResult(texts=list(hit.texts), finish_reasons=list(hit.finish_reasons), usage=hit.usage,
                          cost_usd=hit.cost_usd, latency_s=0.0, model=hit.model or spec.model, alias=spec.alias,
                          role=role, tool_calls=[ToolCall.model_validate(c) for c in hit.tool_calls])

    # -- public API -----------------------------------------------------------------------------
    async def chat(self, messages: list[dict], *, alias: str, role: str, sampling: Sampling | None = None,
                   tools: list[dict] | None = None) -> ChatResult:
        """``sampling.n`` samples (endpoints that ignore or refuse ``n`` get the missing ones as parallel calls);
        with ``tools``, one agent turn whose reply may hold ``tool_calls`` (see :mod:`tool_calls`)."""
        spec = self.settings.resolve(alias)
        sampling = sampling or Sampling()
        if tools:
            return await tool_turn(self, spec, role, messages, sampling.one_sample(0), tools)
        n = sampling.n
        start = time.perf_counter()
        parts: list[ChatResult] = []
        if n > 1 and spec.endpoint not in self.no_n_endpoints:
            try:
                parts.append(await self.complete(spec, role, messages, sampling))
            except LLMError as err:
                if not is_n_complaint(err):
                    raise
                self.no_n_endpoints.add(spec.endpoint)
        elif n > 1:  # known to ignore n: every sample is its own request, all in flight at once
            parts += await asyncio.gather(*(self.complete(spec, role, messages, sampling.one_sample(i))
                                            for i in range(n)))
        else:
            parts.append(await self.complete(spec, role, messages, sampling))
        have = sum(len(p.texts) for p in parts)
        if have < n:
            if parts:
                self.no_n_endpoints.add(spec.endpoint)
                log.info("endpoint %r returned %d of %d choices; sampling the rest separately", spec.endpoint, have, n)
            parts += await asyncio.gather(*(self.complete(spec, role, messages, sampling.one_sample(i))
                                            for i in range(have, n)))
        result = merge_results(parts, time.perf_counter() - start)
        if len(result.texts) > n:  # a server that returned more than asked
            result.texts, result.finish_reasons = result.texts[:n], result.finish_reasons[:n]
        return result

    def max_cost_usd(self, messages: list[dict], *, alias: str, max_tokens: int, n: int = 1,
                     tools: list[dict] | None = None) -> float:
        """The most a call can cost at the configured prices: its prompt (estimated with a margin, tool
        definitions included) and every sample running to ``max_tokens``. Budgets check it before calling."""
        prompt = estimate_prompt_tokens(messages) + (estimate_tokens(json.dumps(tools)) if tools else 0)
        return self.cost(alias, Usage(prompt_tokens=math.ceil(prompt * PROMPT_ESTIMATE_MARGIN) * n,
                                      completion_tokens=max_tokens * n))

    async def structured(self, messages: list[dict], schema: type[BaseModel], *, alias: str, role: str,
                         max_tokens: int = 4096, temperature: float = 0.0,
                         wire: type[BaseModel] | None = None) -> StructuredResult:
        """A validated ``schema`` instance, negotiating the best structured-output mode per endpoint+model;
        ``wire`` is the (stricter) schema a constrained decoder is asked to follow, default ``schema``."""
        return await negotiate(self, self.settings.resolve(alias), messages, schema, role=role,
                               sampling=Sampling(max_tokens=max_tokens, temperature=temperature), wire=wire)

    # -- what each endpoint+model accepts (see modes.py) ------------------------------------------
    def _capability_key(self, spec: ModelSpec, capability: str) -> tuple[str, str, str]:
        ep = self.endpoint_config(spec.endpoint)
        where = "simulated" if ep.simulated else redact_url(ep.base_url or OPENAI_BASE_URL)
        return where, spec.model, capability

    def known_mode(self, spec: ModelSpec, schema: type[BaseModel]) -> Mode:
        """Where negotiation starts: the configured mode, else the one this endpoint+model last accepted,
        else the one another model of this endpoint accepted in this process, else the best."""
        configured = self.endpoint_config(spec.endpoint).structured_mode
        if configured != "auto":
            return configured
        key = self._capability_key(spec, "structured_mode")
        known = self._modes.get(key) or (self.capabilities.get(key) if self.capabilities else None)
        if known is None:  # another model of the same server: its refusals are usually the server's
            known = next((mode for (where, _, what), mode in self._modes.items()
                          if where == key[0] and what == key[2]), None)
        return known if known in MODES else MODES[0]

    def has_accepted(self, spec: ModelSpec, mode: Mode) -> bool:
        return self._modes.get(self._capability_key(spec, "structured_mode")) == mode

    def remember_mode(self, spec: ModelSpec, mode: Mode) -> None:
        key = self._capability_key(spec, "structured_mode")
        self._modes[key] = mode
        if self.capabilities is not None:
            self.capabilities.remember(key, mode)

    def refuses_strict(self, spec: ModelSpec, schema: type[BaseModel]) -> bool:
        key = self._capability_key(spec, f"strict_refused:{schema.__name__}")
        return key in self._modes or bool(self.capabilities and self.capabilities.get(key))

    def remember_strict_refusal(self, spec: ModelSpec, schema: type[BaseModel]) -> None:
        key = self._capability_key(spec, f"strict_refused:{schema.__name__}")
        self._modes[key] = "json_schema"
        if self.capabilities is not None:
            self.capabilities.remember(key, "json_schema")

    def tool_mode(self, spec: ModelSpec) -> ToolMode | None:
        """How this endpoint+model takes tools ("native" or "text"), once a tools request has told us."""
        key = self._capability_key(spec, "tools")
        known = self._modes.get(key) or (self.capabilities.get(key) if self.capabilities else None)
        return known if known in ("native", "text") else None

    def remember_tool_mode(self, spec: ModelSpec, mode: ToolMode) -> None:
        key = self._capability_key(spec, "tools")
        self._modes[key] = mode
        if self.capabilities is not None:
            self.capabilities.remember(key, mode)

    def forget_modes(self, spec: ModelSpec) -> None:
        """Renegotiate from the top next time (the connection test does)."""
        where, model, _ = self._capability_key(spec, "")
        self._modes = {k: v for k, v in self._modes.items() if k[:2] != (where, model)}
        if self.capabilities is not None:
            self.capabilities.forget(where, model)

    def embedding_target(self) -> tuple[str, str] | None:
        """(endpoint, model) for /embeddings, or None when the local embedding is used."""
        name = self.settings.embedding_model
        if not name:
            return None
        spec = self.settings.models.get(name)
        endpoint, model = (spec.endpoint, spec.model) if spec else ("default", name)
        ep = self.settings.endpoints.get(endpoint)
        if ep is None or ep.simulated or endpoint in self.no_embedding_endpoints:
            return None
        return endpoint, model

    def embedding_id(self) -> str:
        """Which vector space :meth:`embed` currently returns; vectors from different ids don't compare."""
        target = self.embedding_target()
        return f"{target[0]}:{target[1]}" if target else "local-256"

    def _embed_locally(self, texts: list[str]) -> list[list[float]]:
        if self._local_embed is None:
            raise LLMError("config", "no endpoint serves embeddings and this client has no local embedding")
        return [self._local_embed(t) for t in texts]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        target = self.embedding_target()
        if target is None or not texts:
            return self._embed_locally(texts)
        endpoint, model = target
        ep = self.endpoint_config(endpoint)
        vectors: list[list[float]] = []
        try:
            for i in range(0, len(texts), EMBED_BATCH):
                batch = [t if t.strip() else " " for t in texts[i : i + EMBED_BATCH]]  # "" is refused
                async with self._state().sem:
                    resp = await self.sdk(endpoint).embeddings.create(model=model, input=batch)
                data = sorted(resp.data, key=lambda d: d.index)
                if len(data) != len(batch):
                    raise LLMError("bad_reply", f"/embeddings returned {len(data)} vectors for {len(batch)} texts")
                vectors += [list(d.embedding) for d in data]
        except openai.APIStatusError as exc:
            if exc.status_code in (400, 404, 405, 501):  # not served here: remember, go local for good
                log.warning("endpoint %r serves no embeddings (HTTP %s); using the local embedding",
                            endpoint, exc.status_code)
                self.no_embedding_endpoints.add(endpoint)
                return self._embed_locally(texts)
            raise to_llm_error(exc, ep, model) from None
        except openai.OpenAIError as exc:
            raise to_llm_error(exc, ep, model) from None
        return vectors

    async def probe(self, endpoint: str = "default") -> dict:
        return await probe_endpoint(self, endpoint)

    async def aclose(self) -> None:
        state = self._loops.pop(asyncio.get_running_loop(), None)
        sdks = list(state.sdks.values()) if state else []
        for sdk in sdks:
            try:
                await sdk.close()
            except Exception:  # closing is best effort (e.g. the loop is going away)
                log.debug("closing an SDK client failed", exc_info=True)
