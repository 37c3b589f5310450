"""Which endpoints and models EGuR talks to, and at what price.

Settings are plain pydantic data so the dashboard, the CLI and stored runs share one shape. API keys
live only in memory: ``api_key`` is excluded from every dump, and :func:`save_settings` writes the
*name* of the environment variable that holds the key, never the key itself.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from egur_core.llm.pricing import Price, list_price
from egur_core.strategy.roles import METHOD_ROLES, ROLE_FALLBACKS, ROLES, TIERS, Role  # noqa: F401  (Role: API)

DEFAULT_REAL_MODEL = "gpt-4o-mini"
_USERINFO = re.compile(r"(?<=//)[^/@?#]*@")
_SECRET_QUERY = re.compile(r"(?i)([?&][^=&#]*(?:key|token|secret|password|passwd|sig|auth)[^=&#]*=)[^&#]*")


def redact_url(url: str | None) -> str | None:
    """``url`` with credentials hidden (``http://user:KEY@host`` and ``?api-key=...``): what may be stored or shown."""
    if not url:
        return url
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub("***@", url))


class EndpointConfig(BaseModel):
    model_config = ConfigDict(validate_assignment=True)  # the Settings page assigns plain strings

    name: str = "default"
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    api_key_env: str | None = None  # where the key came from; what save_settings writes instead
    simulated: bool = False
    timeout_s: float = 60.0
    max_retries: int = 4
    deadline_s: float | None = Field(None, gt=0, description="longest one call may take, retries included "
                                     "(default: timeout_s x (max_retries + 1))")
    structured_mode: Literal["auto", "json_schema_strict", "json_schema", "json_object_schema", "json_object",
                             "text"] = "auto"

    def call_deadline(self) -> float:
        """A total bound on one call: the SDK's timeout only limits the gap between bytes, so a server
        trickling one byte a second would otherwise hold a call for ever."""
        return self.deadline_s or self.timeout_s * (self.max_retries + 1)


class ModelSpec(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    alias: str
    model: str
    endpoint: str = "default"
    price_in: float | None = Field(None, ge=0, description="USD per 1M input tokens; None: the list price")
    price_out: float | None = Field(None, ge=0, description="USD per 1M output tokens; None: the list price")
    price_cached_in: float | None = Field(None, ge=0, description="USD per 1M cached input tokens")
    description: str = ""


class Settings(BaseModel):
    endpoints: dict[str, EndpointConfig]
    models: dict[str, ModelSpec]
    roles: dict[str, str]
    tiers: dict[str, str] = Field(default_factory=dict, description="tier (cheap, strong) -> model alias; "
                                  "a missing cheap tier is the executor's model, a missing strong tier the Guide's")
    embedding_model: str | None = None
    concurrency: int = 8
    sim_seed: int = 0
    sim_latency_s: float = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Fail at load time, with the offending name, rather than on the first model call."""
        for name, ep in self.endpoints.items():
            ep.name = name
        for alias, spec in self.models.items():
            if spec.alias != alias:
                raise ValueError(f"model key {alias!r} does not match its alias {spec.alias!r}")
            if spec.endpoint not in self.endpoints:
                raise ValueError(
                    f"model {alias!r} uses endpoint {spec.endpoint!r}, which is not configured "
                    f"(endpoints: {', '.join(sorted(self.endpoints)) or 'none'})"
                )
        for role, fallback in ROLE_FALLBACKS.items():  # a file written before the role existed
            if role not in self.roles and fallback in self.roles:
                self.roles[role] = self.roles[fallback]
        for role, alias in self.roles.items():
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
            if alias not in self.models:
                raise ValueError(f"role {role!r} uses model alias {alias!r}, which is not configured")
        missing = [r for r in ROLES if r not in self.roles]
        if missing:
            raise ValueError(f"no model configured for role(s): {', '.join(missing)}")
        for tier, alias in self.tiers.items():
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
            if alias not in self.models:
                raise ValueError(f"tier {tier!r} uses model alias {alias!r}, which is not configured")
        self.tiers.setdefault("cheap", self.roles["executor"])
        self.tiers.setdefault("strong", self.roles["guide"])
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        return self

    def resolve(self, name: str) -> ModelSpec:
        """A model alias, a role (the model that role uses) or a tier (the model the settings give it)."""
        if name in self.models:
            return self.models[name]
        if name in self.roles:
            return self.models[self.roles[name]]
        if name in self.tiers:
            return self.models[self.tiers[name]]
        known = ", ".join(sorted(self.known_aliases()))
        raise KeyError(f"unknown model {name!r}; strategies may name a tier, a role or a configured alias: {known}")

    def every_role_priced(self) -> bool:
        """Whether every role's model has a price (settings or list); if not, costs count only the priced ones."""
        return all(self.price_of(role).known for role in ROLES)

    def price_of(self, name: str) -> Price:
        """What a model costs: the settings' price when set, else its list price (genai-prices), else unknown."""
        spec = self.resolve(name)
        if spec.price_in is not None and spec.price_out is not None:
            return Price(input=spec.price_in, output=spec.price_out, cached_input=spec.price_cached_in,
                         source="settings")
        ep = self.endpoints[spec.endpoint]
        return list_price(spec.model, None if ep.simulated else ep.base_url)

    def prices(self) -> dict[str, Price]:
        """Every configured model's price, by alias (what a run records and the pages show)."""
        return {alias: self.price_of(alias) for alias in self.models}

    def known_aliases(self) -> set[str]:
        """Every name a strategy step may give as its model."""
        return set(self.models) | set(self.roles) | set(self.tiers)

    @property
    def is_simulated(self) -> bool:
        used = {spec.endpoint for spec in self.models.values()}
        return bool(used) and all(self.endpoints[name].simulated for name in used)

    def model_catalog(self) -> list[dict]:
        """What the Guide is told about the models it may choose for a step (the judge only grades: not listed)."""
        prices = self.prices()
        return [
            {
                "alias": s.alias,
                "model": s.model,
                "price_in": prices[s.alias].input,
                "price_out": prices[s.alias].output,
                "description": s.description,
                "roles": sorted(r for r, a in self.roles.items() if a == s.alias and r in METHOD_ROLES),
                "tiers": sorted(t for t, a in self.tiers.items() if a == s.alias),
            }
            for s in self.models.values()
        ]

    def safe_dict(self) -> dict:
        """JSON-safe and key-free: what runs store, exports contain and the UI shows."""
        data = json.loads(self.model_dump_json())
        for name, ep in self.endpoints.items():
            data["endpoints"][name]["has_api_key"] = ep.api_key is not None
            data["endpoints"][name]["base_url"] = redact_url(ep.base_url)
        data["prices"] = {alias: price.model_dump() for alias, price in self.prices().items()}
        return data


def simulated_settings(seed: int = 0, latency_s: float = 0.0) -> Settings:
    """The offline default: the built-in simulated model, so the app runs with no key and no network."""
    return Settings(
        endpoints={"default": EndpointConfig(name="default", simulated=True)},
        models={
            "small": ModelSpec(alias="small", model="sim-mini", price_in=0.15, price_out=0.60,
                               description="fast, cheap, weaker reasoning"),
            "large": ModelSpec(alias="large", model="sim-pro", price_in=2.50, price_out=10.00,
                               description="strong reasoning, 15x the price"),
        },
        roles={"guide": "large", "executor": "small", "consolidator": "large", "judge": "large"},
        tiers={"cheap": "small", "strong": "large"},
        sim_seed=seed,
        sim_latency_s=latency_s,
    )


def _real_model_spec(model: str, endpoint: str = "default") -> ModelSpec:
    """A model named on the command line or in the environment: priced at its list price when known."""
    return ModelSpec(alias=model, model=model, endpoint=endpoint)


def _find_config_path(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if env.get("EGUR_CONFIG"):
        return Path(env["EGUR_CONFIG"])
    local = Path("egur.toml")
    return local if local.is_file() else None


def _settings_from_toml(data: dict[str, Any], env: Mapping[str, str]) -> Settings:
    endpoints: dict[str, EndpointConfig] = {}
    for name, raw in (data.get("endpoints") or {"default": {"simulated": True}}).items():
        raw = dict(raw)
        key_env = raw.get("api_key_env")
        if key_env and env.get(key_env):
            raw["api_key"] = env[key_env]
        endpoints[name] = EndpointConfig(**{**raw, "name": name})
    models = {alias: ModelSpec(**{**raw, "alias": alias}) for alias, raw in (data.get("models") or {}).items()}
    top = {k: v for k, v in data.items() if k not in ("endpoints", "models", "roles", "tiers")}
    if not models and all(ep.simulated for ep in endpoints.values()):
        base = simulated_settings()
        models, roles, tiers = base.models, dict(base.roles), dict(base.tiers)
    else:
        roles, tiers = dict(data.get("roles") or {}), dict(data.get("tiers") or {})
    return Settings(endpoints=endpoints, models=models, roles=roles, tiers=tiers, **top)


def _apply_env(settings: Settings | None, env: Mapping[str, str]) -> Settings:
    """Environment over file: OPENAI_API_KEY / OPENAI_BASE_URL make the default endpoint real,
    EGUR_MODEL picks every role's model."""
    key, base_url, model = env.get("OPENAI_API_KEY"), env.get("OPENAI_BASE_URL"), env.get("EGUR_MODEL")
    s = settings.model_copy(deep=True) if settings else simulated_settings()  # keeps api_key values
    if key or base_url:
        ep = s.endpoints.get("default") or EndpointConfig(name="default")
        was_simulated = ep.simulated
        ep.simulated = False
        if base_url:
            ep.base_url = base_url
        if key and not (ep.api_key_env and ep.api_key_env != "OPENAI_API_KEY" and ep.api_key):
            ep.api_key, ep.api_key_env = SecretStr(key), "OPENAI_API_KEY"
        s.endpoints["default"] = ep
        if was_simulated:  # simulated model names mean nothing to a real server
            name = model or DEFAULT_REAL_MODEL
            s.models = {a: m for a, m in s.models.items() if m.endpoint != "default"}
            s.models[name] = _real_model_spec(name)
            s.roles = {r: name for r in ROLES}
            s.tiers = {}
            model = None
    if model:
        alias = next((a for a, m in s.models.items() if model in (a, m.model)), None)
        if alias is None:
            alias = model
            s.models[alias] = _real_model_spec(model)
        s.roles = {r: alias for r in ROLES}
        s.tiers = {}
    return Settings.model_validate(dict(s))  # re-check consistency after the edits


def load_settings(path: str | Path | None = None, env: Mapping[str, str] = os.environ) -> Settings:
    """Explicit path > env > config file (EGUR_CONFIG, ./egur.toml) > the simulated default."""
    cfg_path = _find_config_path(path, env)
    file_settings: Settings | None = None
    if cfg_path is not None:
        if not cfg_path.is_file():
            raise FileNotFoundError(f"EGuR config file not found: {cfg_path}")
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{cfg_path}: not valid TOML: {exc}") from None
        try:
            file_settings = _settings_from_toml(data, env)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(f"{cfg_path}: invalid EGuR settings: {exc}") from None
    if file_settings is None and not any(env.get(k) for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "EGUR_MODEL")):
        return simulated_settings()
    return _apply_env(file_settings, env)


def settings_to_toml(settings: Settings) -> str:
    """TOML text for ``settings`` with no API key in it (only ``api_key_env`` names)."""
    data = settings.model_dump(exclude_none=True)  # api_key is excluded by the field definition
    for ep in data["endpoints"].values():
        ep.pop("name", None)
    for spec in data["models"].values():
        spec.pop("alias", None)
    header = "# EGuR settings. API keys are never written here: set api_key_env to a variable's name.\n\n"
    return header + tomli_w.dumps(data)


def save_settings(settings: Settings, path: str | Path) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a config."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(settings_to_toml(settings), encoding="utf-8")
    os.replace(tmp, target)
