"""``egur doctor``: what an endpoint and model can do for EGuR, found out by asking it.

A person who connects their own model should learn in a minute whether EGuR will work on it and, if
not, why: is it reachable, which structured-output modes it accepts, whether it decodes under a
schema (the Guide's real strategy schema), whether it serves embeddings and reports usage, how fast
it answers, and whether one real Guide call on a shipped problem yields a runnable strategy.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

from egur_core.app.services import build_client
from egur_core.evals.datasets.registry import load_problems
from egur_core.llm import LLMClient, LLMError, Settings
from egur_core.llm.modes import MODE_LABELS, MODES, Mode, instruction, response_format
from egur_core.llm.results import Sampling
from egur_core.llm.structured import parse_reply
from egur_core.reasoner.guide import Catalogue, guide_messages, propose_strategies
from egur_core.strategy.shipped import shipped_strategies
from egur_core.tools.registry import default_registry

TRIAL_BENCHMARK = "bbeh:object_counting"


class ModeCheck(BaseModel):
    mode: str
    accepted: bool
    valid_reply: bool = False
    detail: str = ""


class GuideTrial(BaseModel):
    ok: bool
    mode: str | None = None
    valid_candidates: int = 0
    candidates: int = 0
    issues: list[str] = Field(default_factory=list)
    negotiation: list[str] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    tokens: int = 0


class DoctorReport(BaseModel):
    endpoint: str
    model: str
    simulated: bool
    reachable: bool
    error: str | None = None
    models_listed: list[str] | None = None
    latency_s: float | None = None
    usage_reported: bool = False
    modes: list[ModeCheck] = Field(default_factory=list)
    schema_decoding: bool = Field(False, description="a mode that carries the schema returned a valid Guide reply")
    embeddings: bool = False
    guide: GuideTrial | None = None

    @property
    def best_mode(self) -> str | None:
        """The best structured-output mode that was accepted and answered usably."""
        return next((m.mode for m in self.modes if m.accepted and m.valid_reply), None)

    def verdict(self) -> str:
        """One line for a person: will EGuR work here, and if not, what to do."""
        if not self.reachable:
            return f"not usable: {self.error}"
        if self.guide is not None and self.guide.ok:
            return (f"ready: the Guide wrote {self.guide.valid_candidates} runnable strategies in "
                    f"{MODE_LABELS.get(self.guide.mode or '', self.guide.mode)} mode")
        return ("usable with the fallback: the Guide wrote no runnable strategy, so problems run the fallback "
                "strategy; a larger model or a server that decodes under a schema will do better")


class _ProbeAnswer(BaseModel):
    answer: str


def quick_doctor(settings: Settings, role: str = "guide") -> DoctorReport:
    """The Settings page's check: at most one retry and 20 s per request, so a wrong URL answers in seconds."""
    quick = settings.model_copy(deep=True)
    for ep in quick.endpoints.values():
        ep.max_retries, ep.timeout_s = min(ep.max_retries, 1), min(ep.timeout_s, 20.0)

    async def run() -> DoctorReport:
        client = build_client(quick)
        try:
            return await diagnose(client, role)
        finally:
            await client.aclose()

    return asyncio.run(run())


async def diagnose(client: LLMClient, role: str = "guide") -> DoctorReport:
    """Probe the model the settings give ``role``; never raises for what the endpoint does."""
    spec = client.settings.resolve(role)
    ep = client.endpoint_config(spec.endpoint)
    report = DoctorReport(endpoint=spec.endpoint if ep.simulated else (ep.base_url or "OpenAI"), model=spec.model,
                          simulated=ep.simulated, reachable=False)
    probe = await client.probe(spec.endpoint)
    report.models_listed, report.latency_s = probe.get("models"), probe.get("latency_s")
    report.usage_reported, report.embeddings = bool(probe.get("usage_reported")), bool(probe.get("embeddings"))
    report.reachable, report.error = bool(probe.get("ok")), probe.get("error")
    if not report.reachable:
        return report
    report.modes = [await _check_mode(client, spec, mode) for mode in MODES]
    report.guide = await _trial_guide(client)
    report.schema_decoding = bool(report.guide.ok and report.guide.mode in MODES[:3])
    return report


async def _check_mode(client: LLMClient, spec: Any, mode: Mode) -> ModeCheck:
    """One request in exactly ``mode`` (no negotiation): refused, or answered with a usable reply."""
    messages = [{"role": "system", "content": instruction(mode, _ProbeAnswer)},
                {"role": "user", "content": "What is 2+3? Put the result in 'answer'."}]
    try:
        res = await client.complete(spec, "doctor", messages, Sampling(max_tokens=64),
                                    response_format=response_format(mode, _ProbeAnswer), structured_mode=mode,
                                    retries=0)
    except LLMError as err:
        return ModeCheck(mode=mode, accepted=False, detail=" ".join(err.detail.split())[:200])
    value, error = parse_reply(res.texts[0] if res.texts else "", _ProbeAnswer)
    return ModeCheck(mode=mode, accepted=True, valid_reply=value is not None, detail=error or "")


async def _trial_guide(client: LLMClient) -> GuideTrial:
    """One real Guide call, as the loop makes it, on a shipped problem."""
    problem = load_problems(TRIAL_BENCHMARK, 1, 0)[0]
    tools = default_registry()
    settings = client.settings
    shipped = shipped_strategies()
    messages = guide_messages(problem.text, 2, [], [], tools.catalog(), settings.model_catalog(), sorted(shipped))
    catalogue = Catalogue(tools=set(tools.names()), models=settings.known_aliases(), shipped=shipped)
    started = time.perf_counter()
    outcome = await propose_strategies(client, messages, k=2, alias=settings.roles["guide"], catalogue=catalogue)
    return GuideTrial(
        ok=bool(outcome.valid), mode=outcome.mode, valid_candidates=len(outcome.valid),
        candidates=len(outcome.candidates), negotiation=outcome.negotiation, error=outcome.error,
        issues=[f"candidate {c.index}: {c.issues[0]}" for c in outcome.candidates if c.issues][:5],
        seconds=round(time.perf_counter() - started, 2), tokens=outcome.tokens_in + outcome.tokens_out)
