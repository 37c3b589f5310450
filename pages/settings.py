"""Settings: endpoint, API key variable (never the key), models per role, prices, test the
connection, save a TOML settings file. The session's settings drive the Run page."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st
from pydantic import SecretStr, ValidationError

from egur_core.app.doctor import DoctorReport, quick_doctor
from egur_core.llm import EndpointConfig, ModelSpec, Settings, save_settings, simulated_settings
from egur_core.llm.config import DEFAULT_REAL_MODEL
from egur_core.llm.modes import MODE_LABELS
from egur_core.strategy.roles import ROLES
from pages.common import model_badge, settings

MODES = {"simulated": "Simulated model (offline, no key, free)", "endpoint": "OpenAI-compatible endpoint"}
STRUCTURED = {"auto": "auto: negotiate (strict schema → JSON mode → text)", "json_schema": "json_schema (strict)",
              "json_object": "json_object (JSON mode)", "text": "text (parse and repair)"}


def use_simulated() -> None:
    st.session_state.settings = simulated_settings()
    st.session_state.pop("probe_report", None)
    st.session_state["settings_rev"] = st.session_state.get("settings_rev", 0) + 1
    st.session_state["settings_flash"] = ("success", "Using the simulated model for this session.")


def models_frame(current: Settings, endpoint: str, mode: str) -> pd.DataFrame:
    rows = [m.model_dump() for m in current.models.values() if m.endpoint == endpoint]
    if mode == "simulated" and not current.endpoints[endpoint].simulated:
        rows = [m.model_dump() for m in simulated_settings().models.values()]
    if mode == "endpoint" and current.endpoints[endpoint].simulated:
        rows = [{"alias": DEFAULT_REAL_MODEL, "model": DEFAULT_REAL_MODEL, "price_in": None,
                 "price_out": None, "description": ""}]  # blank: the list price, if the model has one
    return pd.DataFrame(rows, columns=["alias", "model", "price_in", "price_out", "description"])


def blank_to_none(value: object) -> float | None:
    """A price cell left blank means "use the list price", not "free"."""
    return None if value is None or pd.isna(value) else float(value)


def build(current: Settings, endpoint: str, form: dict, models: pd.DataFrame, roles: dict) -> Settings:
    """Settings from the form; other endpoints and their models are kept as they were."""
    key_env = (form.get("api_key_env") or "").strip() or None
    key = os.environ.get(key_env) if key_env else None
    old = current.endpoints.get(endpoint)
    if key is None and old is not None and old.api_key is not None and old.api_key_env == key_env:
        key = old.api_key.get_secret_value()  # keep a key this session already had
    ep = EndpointConfig(name=endpoint, simulated=form["mode"] == "simulated", api_key_env=key_env,
                        api_key=SecretStr(key) if key else None, base_url=(form.get("base_url") or "").strip() or None,
                        structured_mode=form.get("structured_mode", "auto"), timeout_s=form.get("timeout_s", 60.0))
    specs = {alias: spec for alias, spec in current.models.items() if spec.endpoint != endpoint}
    for row in models.dropna(subset=["alias"]).to_dict("records"):
        alias = str(row["alias"]).strip()
        if alias:
            specs[alias] = ModelSpec(alias=alias, model=str(row.get("model") or alias).strip(), endpoint=endpoint,
                                     price_in=blank_to_none(row.get("price_in")),
                                     price_out=blank_to_none(row.get("price_out")),
                                     description=str(row.get("description") or ""))
    return Settings(endpoints={**current.endpoints, endpoint: ep}, models=specs, roles=roles,
                    embedding_model=form.get("embedding_model") or None, concurrency=current.concurrency,
                    sim_seed=current.sim_seed, sim_latency_s=current.sim_latency_s)


def show_report(report: DoctorReport) -> None:
    if not report.reachable:
        st.error(f"Connection test failed: {report.error or 'no reply'}", icon=":material/cloud_off:")
        return
    where = "the simulated model" if report.simulated else f"endpoint `{report.endpoint}`"
    st.success(f"Connected to {where}: a chat reply in {report.latency_s} s. {report.verdict()}.",
               icon=":material/cloud_done:")
    c = st.columns(4)
    c[0].metric("Structured output", MODE_LABELS.get(report.best_mode or "", "none"),
                help="the best mode that answered usably: a schema-carrying mode lets the endpoint decode under the "
                     "strategy schema; text works, parsed and repaired, with more retries")
    c[1].metric("Embeddings", "yes" if report.embeddings else "no",
                help="no: retrieval uses the local deterministic text embedding instead")
    c[2].metric("Usage reported", "yes" if report.usage_reported else "no",
                help="no: tokens (and so cost) are estimated from characters and flagged as estimated")
    c[3].metric("Models listed", len(report.models_listed or []))
    if report.models_listed:
        st.caption("Models the endpoint lists: " + ", ".join(f"`{m}`" for m in report.models_listed[:30]))
    st.dataframe(pd.DataFrame([{"mode": MODE_LABELS[m.mode], "accepted": m.accepted, "usable reply": m.valid_reply,
                                "detail": m.detail} for m in report.modes]), hide_index=True, width="stretch")
    if report.guide is not None:
        g = report.guide
        st.caption(f"Trial Guide call: {g.valid_candidates} of {g.candidates} candidates runnable, "
                   f"{g.seconds} s, {g.tokens} tokens" + (f"; {g.error}" if g.error else ""))


st.title(":material/settings: Settings")
model_badge()
try:
    current = settings()
except (ValueError, FileNotFoundError) as exc:
    st.error(f"The settings file could not be read, so the simulated model is used. {exc}")
    current = st.session_state.settings = simulated_settings()
kind, text = st.session_state.pop("settings_flash", (None, None))
if kind:
    getattr(st, kind)(text)

rev = st.session_state.setdefault("settings_rev", 0)
names = list(current.endpoints)
endpoint = st.selectbox("Endpoint", names, key=f"set_endpoint_{rev}") if len(names) > 1 else names[0]
ep = current.endpoints[endpoint]
form: dict = {"mode": st.radio("Where answers come from", list(MODES), format_func=MODES.get, horizontal=True,
                               index=0 if ep.simulated else 1, key=f"set_mode_{rev}")}
if form["mode"] == "simulated":
    st.info("The built-in simulated model runs the same code path with no key and no network: deterministic "
            "for a seed, with realistic token counts. Its prices below are illustrative.")
else:
    a, b = st.columns(2)
    form["base_url"] = a.text_input("Base URL", ep.base_url or "https://api.openai.com/v1", key=f"set_url_{rev}",
                                    help="Any OpenAI-compatible server: OpenAI, vLLM, Ollama "
                                         "(http://127.0.0.1:11434/v1), llama.cpp, LM Studio, a gateway.")
    form["api_key_env"] = b.text_input("API key environment variable", ep.api_key_env or "OPENAI_API_KEY",
                                       key=f"set_keyenv_{rev}")
    env = form["api_key_env"].strip()
    b.caption(f":green[✓ `{env}` is set] in the dashboard's environment." if env and os.environ.get(env) else
              f":orange[`{env or '(none)'}` is not set] in the dashboard's environment: export it before "
              "`streamlit run` (local servers usually need no key).")
    st.caption(":material/lock: EGuR never stores API keys: the settings file records only the variable's "
               "*name*, and the key is read from the environment when the app starts a run.")
    c, d, e = st.columns(3)
    form["structured_mode"] = c.selectbox("Structured output", list(STRUCTURED), format_func=STRUCTURED.get,
                                          index=list(STRUCTURED).index(ep.structured_mode), key=f"set_struct_{rev}")
    form["timeout_s"] = d.number_input("Timeout (s)", 1.0, 3600.0, float(ep.timeout_s), key=f"set_timeout_{rev}")
    form["embedding_model"] = e.text_input("Embedding model (optional)", current.embedding_model or "",
                                           key=f"set_embed_{rev}", help="empty: a local deterministic embedding")

st.subheader("Models and prices")
st.caption("Aliases are what strategies name (e.g. `small`, `large`); prices are USD per 1M tokens. Leave a price "
           "blank for the model's list price (genai-prices); a model served from this machine has none, and its "
           "cost then shows as *price unknown*, never as free.")
models = st.data_editor(models_frame(current, endpoint, form["mode"]), num_rows="dynamic", hide_index=True,
                        width="stretch", key=f"set_models_{rev}_{form['mode']}", column_config={
                            "alias": st.column_config.TextColumn("alias", required=True),
                            "price_in": st.column_config.NumberColumn("$ / 1M input", min_value=0, format="%.3f"),
                            "price_out": st.column_config.NumberColumn("$ / 1M output", min_value=0, format="%.3f")})
aliases = sorted({str(a).strip() for a in models["alias"].dropna() if str(a).strip()} |
                 {a for a, m in current.models.items() if m.endpoint != endpoint})
roles = {}
for col, role in zip(st.columns(3), ROLES):
    now = current.roles.get(role)
    roles[role] = col.selectbox(f"{role.capitalize()} model", aliases, key=f"set_role_{role}_{rev}_{form['mode']}",
                                index=aliases.index(now) if now in aliases else 0) if aliases else None
candidate, problem = None, None
try:
    candidate = build(current, endpoint, form, models, roles)
except (ValidationError, ValueError) as exc:
    problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
    st.error(f"These settings are not usable yet: {problem}")
if candidate is not None:
    st.caption("Prices used: " + "; ".join(f"`{alias}` {price.describe()}"
                                            for alias, price in candidate.prices().items()))

path = st.text_input("Settings file", os.environ.get("EGUR_CONFIG") or "egur.toml", key="set_path")
b1, b2, b3, b4 = st.columns([1, 1, 1.3, 1.5], gap="small")
if b1.button("Test connection", key="set_test", disabled=candidate is None, icon=":material/network_check:"):
    with st.spinner("Asking the endpoint for a reply, each structured-output mode, and one Guide call…"):
        try:
            st.session_state["probe_report"] = quick_doctor(candidate)
        except Exception as exc:  # noqa: BLE001 - any failure is a message on this page, never a traceback
            st.session_state["probe_report"] = DoctorReport(endpoint=endpoint, model="?", simulated=False,
                                                            reachable=False, error=f"{type(exc).__name__}: {exc}")
if b2.button("Save", key="set_save", type="primary", disabled=candidate is None, icon=":material/save:"):
    try:
        save_settings(candidate, path)
        st.session_state.settings = candidate
        st.session_state["settings_flash"] = ("success", f"Saved to `{path}` (no API key in it). "
                                                         "The Run page now uses these settings.")
        st.rerun()
    except OSError as exc:
        st.error(f"Could not write `{path}`: {exc}")
if b3.button("Use for this session", key="set_apply", disabled=candidate is None):
    st.session_state.settings = candidate
    st.session_state["settings_flash"] = ("success", "The Run page uses these settings until the tab is closed "
                                                     "(nothing written).")
    st.rerun()
b4.button("Use simulated model", key="set_simulated", on_click=use_simulated, icon=":material/science:")
if "probe_report" in st.session_state:
    show_report(st.session_state["probe_report"])
