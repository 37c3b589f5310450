"""An API key is never written to the memory file, a report, an export or a log line."""

from __future__ import annotations

import json
import logging

from pydantic import SecretStr

from egur_core.evals.run_records import run_report
from egur_core.llm import simulated_settings
from egur_core.memory.database import MemoryFile, close_idle_files
from egur_core.reasoner.loop import LoopConfig
from tests.reasoner.loop_runner import run_loop

SECRET = "sk-test-DO-NOT-LEAK-4242"


def test_the_api_key_never_reaches_disk_or_logs(tmp_path, caplog):
    settings = simulated_settings(seed=1)
    settings.endpoints["default"].api_key = SecretStr(SECRET)
    memory = MemoryFile(tmp_path / "m.duckdb", linger_s=0)
    caplog.set_level(logging.DEBUG)

    run_id, _ = run_loop(memory, LoopConfig(benchmark="sat3", n=2, k=2, seed=1), settings=settings)
    with memory.session() as store:
        report = json.dumps(run_report(store, run_id), default=str)
        store.export_memory(tmp_path / "export.json")
    close_idle_files()
    assert SECRET not in report
    assert SECRET.encode() not in (tmp_path / "m.duckdb").read_bytes()
    assert SECRET not in (tmp_path / "export.json").read_text()
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(settings.safe_dict())
