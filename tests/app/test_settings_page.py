"""The Settings page (AppTest): endpoint form, test connection against a local fake server, save."""

from __future__ import annotations

import tomllib

import pytest

from tests.fakes.openai_server import FAKE_API_KEY, FakeOpenAIServer

PAGE = "pages/settings.py"


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.fixture
def endpoint_form(empty_db, open_page, monkeypatch):
    """The page switched to "endpoint" mode, with the key in an env var the form names."""
    monkeypatch.setenv("EGUR_TEST_KEY", FAKE_API_KEY)

    def fill(base_url: str):
        at = open_page(PAGE)
        at.radio(key="set_mode_0").set_value("endpoint").run()
        at.text_input(key="set_url_0").set_value(base_url)
        at.text_input(key="set_keyenv_0").set_value("EGUR_TEST_KEY").run()
        return at
    return fill


def test_default_is_the_simulated_model(empty_db, open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert at.radio(key="set_mode_0").value == "simulated"
    assert "simulated model runs the same code path" in texts(at.info)


def test_test_connection_reports_what_the_endpoint_supports(endpoint_form):
    with FakeOpenAIServer({"json_object_only", "no_usage"}) as server:
        at = endpoint_form(server.base_url)
        assert "`EGUR_TEST_KEY` is set" in texts(at.caption)
        at.button(key="set_test").click().run()
        url = server.base_url
    assert not at.exception
    assert f"Connected to endpoint `{url}`" in texts(at.success)
    assert "the Guide wrote no runnable strategy" in texts(at.success)  # the fake's replies are schema minimums
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Structured output"] == "json_object"
    assert metrics["Usage reported"] == "no" and metrics["Models listed"] == "2"


def test_test_connection_failure_is_a_message(endpoint_form):
    with FakeOpenAIServer("strict") as server:
        url = server.base_url
    at = endpoint_form(url)  # the server is gone
    at.button(key="set_test").click().run()
    assert not at.exception
    assert "Connection test failed" in texts(at.error)


def test_save_writes_toml_without_the_key_and_updates_the_session(endpoint_form, tmp_path):
    url = "http://127.0.0.1:8000/v1"
    at = endpoint_form(url)
    at.text_input(key="set_path").set_value(str(tmp_path / "egur.toml"))
    at.button(key="set_save").click().run()
    assert not at.exception and "Saved to" in texts(at.success)
    text = (tmp_path / "egur.toml").read_text()
    assert FAKE_API_KEY not in text
    data = tomllib.loads(text)
    assert data["endpoints"]["default"]["api_key_env"] == "EGUR_TEST_KEY"
    assert data["endpoints"]["default"]["base_url"] == url
    session = at.session_state["settings"]
    assert not session.is_simulated and session.endpoints["default"].api_key.get_secret_value() == FAKE_API_KEY


def test_unusable_settings_are_explained_not_raised(endpoint_form):
    at = endpoint_form("http://127.0.0.1:9/v1")
    at.session_state["set_models_0_endpoint"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    assert not at.exception
    assert "not usable yet" in texts(at.error)


def test_use_simulated_model_resets(endpoint_form):
    at = endpoint_form("http://127.0.0.1:9/v1")
    at.button(key="set_apply").click().run()
    assert not at.session_state["settings"].is_simulated
    at.button(key="set_simulated").click().run()
    assert at.session_state["settings"].is_simulated
    assert "simulated model" in texts(at.success)
