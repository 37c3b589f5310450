"""Settings: precedence (env > file > simulated default), validation, and keys never written out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egur_core.llm import EndpointConfig, ModelSpec, Settings, load_settings, save_settings, simulated_settings

SECRET = "sk-test-SECRET-do-not-store-9876"

FILE = """
concurrency = 3
[endpoints.default]
base_url = "http://file.example/v1"
api_key_env = "MY_LLM_KEY"
timeout_s = 12.5
[models.small]
model = "qwen2.5:7b"
price_in = 0.1
price_out = 0.2
description = "local and cheap"
[models.large]
model = "qwen2.5:72b"
[roles]
guide = "large"
executor = "small"
consolidator = "large"
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # so a developer's own ./egur.toml never leaks into a test
    return tmp_path


def test_nothing_configured_gives_the_simulated_default(in_tmp: Path):
    settings = load_settings(env={})
    assert settings.is_simulated
    assert settings == simulated_settings()
    assert settings.resolve("guide").model == "sim-pro" and settings.resolve("executor").model == "sim-mini"
    assert settings.models["large"].price_in == 2.50 and settings.models["small"].price_out == 0.60


def test_openai_api_key_in_env_makes_the_default_endpoint_real(in_tmp: Path):
    settings = load_settings(env={"OPENAI_API_KEY": SECRET})
    ep = settings.endpoints["default"]
    assert not settings.is_simulated and ep.simulated is False
    assert ep.api_key is not None and ep.api_key.get_secret_value() == SECRET
    assert {settings.resolve(r).model for r in ("guide", "executor", "consolidator")} == {"gpt-4o-mini"}
    price = settings.price_of("guide")  # a known model gets its list price, and says so
    assert (price.input, price.output, price.source) == (0.15, 0.6, "genai-prices")


def test_a_configured_price_wins_over_the_list_price(in_tmp: Path):
    settings = load_settings(env={"OPENAI_API_KEY": SECRET})
    settings.models["gpt-4o-mini"].price_in, settings.models["gpt-4o-mini"].price_out = 1.0, 2.0
    assert settings.price_of("guide").model_dump() == {"input": 1.0, "output": 2.0, "cached_input": None,
                                                        "source": "settings"}


def test_a_local_model_with_no_price_set_has_an_unknown_price_not_zero(in_tmp: Path):
    settings = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1", "EGUR_MODEL": "gpt-4o-mini"})
    price = settings.price_of("executor")  # even a model named like a cloud model: this machine serves it
    assert not price.known and price.source == "unknown"


def test_base_url_and_egur_model_in_env(in_tmp: Path):
    settings = load_settings(env={"OPENAI_BASE_URL": "http://localhost:11434/v1", "EGUR_MODEL": "llama3.2"})
    assert settings.endpoints["default"].base_url == "http://localhost:11434/v1"
    assert settings.endpoints["default"].api_key is None
    assert settings.resolve("executor").model == "llama3.2" and settings.resolve("guide").model == "llama3.2"


def test_config_file_is_read_with_its_key_from_api_key_env(in_tmp: Path):
    (in_tmp / "egur.toml").write_text(FILE)
    settings = load_settings(env={"MY_LLM_KEY": SECRET})
    ep = settings.endpoints["default"]
    assert ep.base_url == "http://file.example/v1" and ep.timeout_s == 12.5
    assert ep.api_key.get_secret_value() == SECRET
    assert settings.concurrency == 3
    assert settings.resolve("executor").model == "qwen2.5:7b"
    assert settings.model_catalog()[0] == {"alias": "small", "model": "qwen2.5:7b", "price_in": 0.1,
                                           "price_out": 0.2, "description": "local and cheap",
                                           "roles": ["executor"], "tiers": ["cheap"]}


def test_egur_config_env_names_the_file(in_tmp: Path):
    path = in_tmp / "elsewhere.toml"
    path.write_text(FILE)
    assert load_settings(env={"EGUR_CONFIG": str(path)}).resolve("guide").model == "qwen2.5:72b"


def test_env_overrides_the_file(in_tmp: Path):
    path = in_tmp / "c.toml"
    path.write_text(FILE)
    settings = load_settings(path, env={"OPENAI_BASE_URL": "http://env.example/v1", "EGUR_MODEL": "qwen2.5:7b"})
    assert settings.endpoints["default"].base_url == "http://env.example/v1"
    assert all(settings.roles[r] == "small" for r in ("guide", "executor", "consolidator"))  # matched by model


def test_missing_explicit_file_is_a_clear_error(in_tmp: Path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_settings(in_tmp / "nope.toml", env={})


def test_inconsistent_file_names_the_problem(in_tmp: Path):
    path = in_tmp / "bad.toml"
    path.write_text(FILE.replace('guide = "large"', 'guide = "huge"'))
    with pytest.raises(ValueError, match="'huge'"):
        load_settings(path, env={})


def test_resolve_unknown_alias_lists_the_known_ones():
    with pytest.raises(KeyError, match="alias: cheap, consolidator, executor, guide, large, small, strong"):
        simulated_settings().resolve("medium")
    assert simulated_settings().known_aliases() == {"small", "large", "guide", "executor", "consolidator", "cheap",
                                                    "strong"}


def test_tiers_resolve_to_the_models_the_settings_give_them():
    settings = simulated_settings()
    assert settings.resolve("cheap").model == "sim-mini" and settings.resolve("strong").model == "sim-pro"


def test_a_single_real_model_serves_every_tier():
    settings = load_settings(env={"OPENAI_BASE_URL": "http://localhost:8080/v1", "EGUR_MODEL": "qwen2.5-0.5b"})
    assert {settings.resolve(t).model for t in ("cheap", "strong")} == {"qwen2.5-0.5b"}


def _real_settings_with_key() -> Settings:
    return Settings(
        endpoints={"default": EndpointConfig(base_url="http://x/v1", api_key=SECRET, api_key_env="MY_LLM_KEY")},
        models={"small": ModelSpec(alias="small", model="m")},
        roles={"guide": "small", "executor": "small", "consolidator": "small"},
    )


def test_safe_dict_and_dumps_never_contain_the_key():
    settings = _real_settings_with_key()
    safe = settings.safe_dict()
    assert SECRET not in json.dumps(safe)
    assert safe["endpoints"]["default"]["has_api_key"] is True
    assert SECRET not in settings.model_dump_json() and SECRET not in str(settings.model_dump())
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_save_settings_writes_no_key_and_round_trips(in_tmp: Path):
    settings = _real_settings_with_key()
    path = in_tmp / "saved.toml"
    save_settings(settings, path)
    text = path.read_text()
    assert SECRET not in text
    assert 'api_key_env = "MY_LLM_KEY"' in text
    reloaded = load_settings(path, env={"MY_LLM_KEY": SECRET})
    assert reloaded.safe_dict() == settings.safe_dict()
    assert reloaded.endpoints["default"].api_key.get_secret_value() == SECRET


def test_simulated_settings_round_trip_through_toml(in_tmp: Path):
    save_settings(simulated_settings(seed=7), in_tmp / "sim.toml")
    assert load_settings(in_tmp / "sim.toml", env={}) == simulated_settings(seed=7)
