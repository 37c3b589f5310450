"""The fake OpenAI server itself, as other engineers' tests will use it (fixture and defaults)."""

from __future__ import annotations

import pytest

from egur_core.strategy.sampling import Sampling
from tests.fakes.openai_server import FakeOpenAIServer, openai_server  # noqa: F401  (fixture)
from tests.llm import USER, Answer, run_with_client


@pytest.mark.parametrize("openai_server", [{"no_n", "no_usage"}], indirect=True)
def test_fixture_takes_the_family_by_indirect_parametrize(openai_server: FakeOpenAIServer):  # noqa: F811
    res = run_with_client(openai_server, lambda c: c.chat(USER, alias="small", role="executor", sampling=Sampling(n=2)))
    assert res.texts == ["OK", "OK"] and res.usage.estimated
    assert openai_server.families == {"no_n", "no_usage"}


def test_default_reply_is_a_valid_instance_of_the_requested_schema():
    with FakeOpenAIServer("json_object_only") as server:  # schema only in the system message
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="small", role="executor"))
    assert res.value is not None and res.mode == "json_object"


def test_a_grammar_server_replaces_a_reply_outside_the_schema_as_its_decoder_would():
    with FakeOpenAIServer("llama_cpp_python") as server:
        server.push_reply("Sure, the answer is 5.")
        res = run_with_client(server, lambda c: c.structured(USER, Answer, alias="small", role="executor"))
    assert res.value is not None and res.mode == "json_object_schema"
    assert server.chat_requests()[-1]["response_format"]["schema"]["title"] == "Answer"


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="unknown families"):
        FakeOpenAIServer("flaky")
