"""Your own dataset on the Run page: uploaded, listed in the benchmark picker, run, and found in Results."""

from __future__ import annotations

import json

import duckdb

from egur_core.app.datasets import add_file
from egur_core.app.services import open_memory
from egur_core.evals.datasets.registry import benchmark_names
from egur_core.evals.datasets.stored import DatasetSpec, list_datasets
from tests.app.test_run_page import poll_until_finished, progress_text

RUN, RESULTS = "pages/run.py", "pages/results.py"
JSONL = "".join(json.dumps({"id": f"t{i}", "problem": q, "answer": a}) + "\n" for i, (q, a) in enumerate([
    ("What is the capital of France?", "Paris"), ("How many legs does a spider have?", "8"),
    ("What is 12 * 12?", "144")])).encode()


def upload(at, filename: str, content: bytes, name: str):
    at.file_uploader(key="upload_file").set_value((filename, content, "application/octet-stream"))
    at.text_input(key="upload_name").set_value(name)
    return at.button(key="upload_add").click().run()


def test_an_uploaded_file_joins_the_picker_and_is_selected(empty_db, open_page):
    at = upload(open_page(RUN), "trivia.jsonl", JSONL, "trivia")
    assert not at.exception
    assert "Added **trivia**: 3 rows · exact" in at.success[0].value
    picker = at.selectbox(key="benchmark")
    assert picker.options[:-1] == benchmark_names() and picker.value == "trivia"
    assert picker.options[-1] == "trivia (yours: 3 rows · exact)"


def test_a_bad_upload_says_why_and_adds_nothing(empty_db, open_page):
    at = upload(open_page(RUN), "trivia.parquet", JSONL, "trivia")
    assert not at.exception
    assert "Nothing was added. trivia.parquet is not a Parquet file: it looks like JSON lines" in at.error[0].value
    assert at.selectbox(key="benchmark").options == benchmark_names()
    with open_memory(empty_db).session() as store:
        assert list_datasets(store) == []


def test_a_run_on_your_dataset_appears_in_the_results_filter(empty_db, open_page, tmp_path):
    data = tmp_path / "trivia.jsonl"
    data.write_bytes(JSONL)
    with open_memory(empty_db).session() as store:
        add_file(store, data, DatasetSpec(name="trivia"))
    at = open_page(RUN)
    at.selectbox(key="benchmark").set_value("trivia")
    at.number_input(key="n").set_value(3)
    at.number_input(key="k").set_value(2)
    at.button(key="start").click().run()
    poll_until_finished(at)
    assert "3/3" in progress_text(at) and any("on **trivia**" in c.value for c in at.caption)
    with duckdb.connect(str(empty_db)) as con:
        (config,) = con.execute("SELECT config FROM runs").fetchone()
    assert json.loads(config)["dataset"]["content_hash"]  # the run records which version of the file it ran
    results = open_page(RESULTS)
    assert "trivia" in results.selectbox(key="results_benchmark").options
