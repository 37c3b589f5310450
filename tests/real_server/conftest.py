"""A real llama-cpp-python server on 127.0.0.1, serving a tiny random-weight model the test writes itself."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from egur_core.reasoner.consolidator import consolidator_messages
from egur_core.reasoner.guide import STRATEGY_FORMAT, guide_messages
from egur_core.strategy.shipped import data_dir
from tests.fakes.processes import free_port, stop

pytest.importorskip("llama_cpp.server", reason="pip install 'llama-cpp-python[server]' (.ci/run does)")
from tests.real_server.tiny_model import write_tiny_model  # noqa: E402  (needs gguf, installed with it)

MODEL = "tiny-random"


def _prompt_texts() -> list[str]:
    """The words EGuR's prompts use, so the tiny model's vocabulary covers them."""
    texts = [STRATEGY_FORMAT, *(p.read_text() for p in (data_dir() / "strategies").glob("*.json"))]
    texts += [m["content"] for m in guide_messages("p cnf 3 1", 3, [], [], [], [])]
    texts += [m["content"] for m in consolidator_messages("p", "sat3", [], [], [], False)]
    return texts


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = write_tiny_model(tmp_path_factory.mktemp("model") / "tiny.gguf", _prompt_texts())
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port",
             str(port), "--n_ctx", "16384", "--chat_format", "chatml", "--model_alias", MODEL, "--n_threads", "2"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        stop(server, 30)


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"llama-cpp-python's server exited: {log.read_text()[-2000:]}")
        try:
            if httpx2.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"llama-cpp-python's server did not come up: {log.read_text()[-2000:]}")
