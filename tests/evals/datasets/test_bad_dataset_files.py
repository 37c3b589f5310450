"""Bad dataset files: each gets a message a person can act on, and the memory file is left exactly as it was."""

from __future__ import annotations

import io
import zipfile

import pytest

from egur_core.evals.datasets import stored
from egur_core.evals.datasets.files import DatasetFileError
from egur_core.evals.datasets.scorers import ScorerSpec
from egur_core.evals.datasets.stored import DatasetSpec
from tests.evals.datasets.conftest import ROWS, write


@pytest.fixture
def refused(store, snapshot, dataset_file):
    """Add a first dataset, then assert that adding ``path`` fails with ``match`` and changes nothing."""
    stored.add_dataset(store, dataset_file(), DatasetSpec(name="kept"))
    before = snapshot(store)

    def check(path, match: str, **spec) -> str:
        with pytest.raises((DatasetFileError, ValueError), match=match) as caught:
            stored.add_dataset(store, path, DatasetSpec(name=spec.pop("name", "new"), **spec))
        assert snapshot(store) == before
        return str(caught.value)
    return check


def test_a_missing_problem_column_lists_the_columns_found(refused, dataset_file):
    rows = [{"prompt": r["question"], "answer": r["answer"]} for r in ROWS]
    message = refused(dataset_file(rows), "no problem column")
    assert "columns found: prompt, answer" in message and "--problem-col" in message


def test_a_named_column_that_does_not_exist_lists_the_columns_found(refused, dataset_file):
    refused(dataset_file(), r"no column named 'task'.*columns found: id, question, answer, topic", problem_col="task")


@pytest.mark.parametrize(("name", "content"), [("empty.jsonl", ""), ("blank.csv", "\n\n  \n")])
def test_an_empty_file_is_refused(refused, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    refused(path, "is empty")


def test_a_csv_with_only_a_header_has_no_rows(refused, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("problem,answer\n")
    refused(path, "no rows")


def test_mixed_types_in_a_column_name_the_column_and_line(refused, tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [f'{{"problem": "p{i}", "answer": {i}}}' for i in range(5)] + ['{"problem": "p5", "answer": "five"}']
    path.write_text("\n".join(lines) + "\n")
    refused(path, r"mixed types in column 'answer': line 6 holds a string where earlier lines hold a number")


def test_duplicate_ids_are_refused_with_their_rows(refused, dataset_file):
    rows = [*ROWS, {**ROWS[1], "question": "again?"}]
    refused(dataset_file(rows), r"duplicate ids: 'q2' \(rows 2 and 5\)")


def test_a_file_over_the_limit_is_refused_before_it_is_read(refused, tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:  # a sparse 2 GB file: nothing is written to disk
        handle.truncate(2 * 1024**3)
    refused(path, r"huge.jsonl is 2.0 GB; the limit is 512.0 MB \(EGUR_DATASET_MAX_BYTES\)")


def test_the_limit_can_be_raised_or_lowered(refused, dataset_file, monkeypatch):
    monkeypatch.setenv("EGUR_DATASET_MAX_BYTES", "100")
    refused(dataset_file(), r"the limit is 100 bytes")


def test_a_csv_named_parquet_is_called_what_it_is(refused, tmp_path):
    path = write(tmp_path / "data.parquet", ROWS, fmt="csv")
    refused(path, "data.parquet is not a Parquet file: it looks like CSV or plain text")


def test_parquet_bytes_named_jsonl_are_called_what_they_are(refused, tmp_path):
    path = write(tmp_path / "data.jsonl", ROWS, fmt="parquet")
    refused(path, "data.jsonl is not a JSON lines file: it is a Parquet file")


def test_a_spreadsheet_renamed_csv_is_called_what_it_is(refused, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    path = tmp_path / "data.csv"
    path.write_bytes(buffer.getvalue())
    refused(path, "perhaps an Excel workbook")


def test_a_json_array_is_refused_with_what_to_write_instead(refused, tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[{"problem": "a"}]')
    refused(path, "one object per line")


def test_broken_json_names_the_line(refused, tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"problem": "a"}\n{"problem": \n')
    refused(path, "not valid JSON lines")


def test_a_row_without_a_problem_is_refused(refused, dataset_file):
    rows = [*ROWS[:2], {"id": "q9", "question": "  ", "answer": "x"}]
    refused(dataset_file(rows), "row 3 has no problem text")


def test_answers_on_some_rows_only_are_refused(refused, dataset_file):
    rows = [ROWS[0], {"id": "q2", "question": "unanswered?"}]
    refused(dataset_file(rows), r"1 of 2 rows have an answer \(row 2 has none")


def test_a_regex_scorer_refuses_an_answer_that_is_not_a_pattern(refused, dataset_file):
    rows = [{**ROWS[0], "answer": "Par(is"}]
    refused(dataset_file(rows), "row 1: the answer 'Par\\(is' is not a valid regular expression",
            scorer=ScorerSpec(kind="regex"))


def test_a_verifier_without_check_is_refused_without_running(refused, dataset_file):
    refused(dataset_file(), "must define a function check", verifier="def verify(p, a):\n    return True\n")


def test_a_verifier_that_crashes_on_the_first_row_is_refused(refused, dataset_file):
    refused(dataset_file(), "the verifier failed on the first row.*ZeroDivisionError",
            verifier="def check(problem, answer):\n    return 1 / 0\n")


def test_a_missing_file_is_named(refused, tmp_path):
    refused(tmp_path / "nope.csv", "no such file")


def test_a_bad_name_is_refused(refused, dataset_file):
    refused(dataset_file(), "must be 1-64 characters", name="my data!")


def test_decimals_after_many_whole_numbers_are_mixed_types(refused, tmp_path):
    path = tmp_path / "late.jsonl"
    whole = "".join(f'{{"problem": "p{i}", "answer": {i}}}\n' for i in range(200_000))
    path.write_text(whole + '{"problem": "last", "answer": 1.5}\n')
    refused(path, r"mixed types in a column: a line after line \d+ holds '1.5' where earlier lines hold int64")
