"""The connection test: is the endpoint there, what does it list, which structured mode does it take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from egur_core.llm.config import ModelSpec
from egur_core.llm.errors import LLMError
from egur_core.llm.results import Sampling
from egur_core.llm.structured import negotiate

if TYPE_CHECKING:
    from egur_core.llm.client import LLMClient


class ProbeReply(BaseModel):
    """A tiny schema for the connection test."""

    answer: str


async def probe_endpoint(client: LLMClient, endpoint: str) -> dict:
    """What "test connection" shows: reachability, models, best structured mode, embeddings, usage."""
    out: dict[str, Any] = {"ok": False, "endpoint": endpoint, "models": None, "structured_mode": None,
                           "embeddings": False, "usage_reported": False, "latency_s": None, "error": None}
    try:
        ep = client.endpoint_config(endpoint)
    except KeyError as exc:
        out["error"] = str(exc.args[0])
        return out
    out["simulated"] = ep.simulated
    try:
        page = await client.sdk(endpoint).models.list()
        out["models"] = [m.id for m in page.data]
    except Exception:  # noqa: BLE001 - many servers have no /models; the chat test decides "ok"
        pass
    spec = next((m for m in client.settings.models.values() if m.endpoint == endpoint), None)
    if spec is None and out["models"]:
        spec = ModelSpec(alias=out["models"][0], model=out["models"][0], endpoint=endpoint)
    if spec is None:
        out["error"] = f"no model is configured for endpoint {endpoint!r} and it lists none"
        return out
    try:
        res = await client.complete(spec, "probe", [{"role": "user", "content": "Reply with the word OK."}],
                                    Sampling(max_tokens=16))
        out.update(ok=True, latency_s=round(res.latency_s, 3), usage_reported=not res.usage.estimated)
        client.forget_modes(spec)  # renegotiate from the top
        sres = await negotiate(client, spec, [{"role": "user", "content": "What is 2+3? Answer in JSON."}],
                               ProbeReply, role="probe", sampling=Sampling(max_tokens=64))
        out["structured_mode"] = sres.mode if sres.ok else None
        if client.embedding_target() and client.embedding_target()[0] == endpoint:
            await client.embed(["connection test"])
            out["embeddings"] = client.embedding_target() is not None
    except LLMError as err:
        out["error"] = str(err)
    return out
