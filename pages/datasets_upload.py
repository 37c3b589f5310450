"""The dataset upload and the benchmark picker's options, for the Run page (not a page itself).

Kept apart from pages/run.py so the Run page only calls two functions: ``benchmark_options`` (the
shipped benchmarks and the person's datasets, labelled) and ``render_upload`` (an expander that adds
a JSONL, CSV or Parquet file to the memory file). Adding happens in the button's callback, before
the page reruns, so the new dataset is selected in the picker at once.
"""

from __future__ import annotations

import streamlit as st

from egur_core.app.datasets import add_upload, picker
from egur_core.evals.datasets.files import DatasetFileError
from egur_core.evals.datasets.scorers import SCORER_KINDS, parse_scorer
from egur_core.evals.datasets.stored import DatasetSpec
from egur_core.memory.database import MemoryFileBusy
from pages.common import db_path, memory_file

FILE_TYPES = ["jsonl", "ndjson", "json", "csv", "tsv", "parquet"]


OPTIONS_TTL_S = 10  # a dataset added from the CLI shows up within this; one added here at once


@st.cache_data(ttl=OPTIONS_TTL_S, show_spinner=False)
def _options(path: str) -> tuple[list[str], dict[str, str]]:
    with memory_file(path).session() as store:
        infos = picker(store)
    return [i.name for i in infos], {i.name: i.label for i in infos}


def benchmark_options() -> tuple[list[str], dict[str, str]]:
    """Names for the picker, shipped first, and a label for each (yours are marked, with their size).

    Cached for a few seconds: the Run page reruns on every click, and opening the file each time
    would be most of its render time."""
    try:
        return _options(db_path())
    except MemoryFileBusy as exc:
        st.error(f"The memory file is in use by another program. {exc}")
        st.stop()


def _add() -> None:
    """The Add button's callback: read the upload into the memory file, select it, say what happened."""
    state = st.session_state
    upload, name = state.get("upload_file"), (state.get("upload_name") or "").strip()
    if upload is None or not name:
        state["upload_message"] = ("error", "Choose a file and give the dataset a name.")
        return
    scorer = state.get("upload_scorer", "exact")
    if scorer == "number" and state.get("upload_tolerance"):
        scorer = f"number:{state['upload_tolerance']}"
    verifier = state.get("upload_verifier")
    try:
        spec = DatasetSpec(name=name, scorer=parse_scorer(scorer, state.get("upload_rubric") or ""),
                           problem_col=state.get("upload_problem_col") or None,
                           answer_col=state.get("upload_answer_col") or None,
                           verifier=verifier.getvalue().decode("utf-8") if verifier is not None else None,
                           replace=bool(state.get("upload_replace")))
        with memory_file(db_path()).session() as store:
            added = add_upload(store, upload.name, upload.getvalue(), spec)
    except (DatasetFileError, ValueError, UnicodeDecodeError, MemoryFileBusy) as exc:
        state["upload_message"] = ("error", f"Nothing was added. {exc}")
        return
    _options.clear()
    state["benchmark"] = added.name
    state["upload_message"] = ("success", f"Added **{added.name}**: {added.summary()} (sha256 "
                                          f"`{added.content_hash[:12]}`). It is selected above.")


def render_upload() -> None:
    """An expander with the upload form; the result of the last attempt is shown inside it."""
    message = st.session_state.pop("upload_message", None)
    with st.expander("Add your own dataset", icon=":material/upload_file:", expanded=message is not None):
        st.caption("One problem per row: a `problem`, `question` or `input` column, an optional `answer` and `id`; "
                   "other columns are kept as metadata. Without answers, runs learn label-free.")
        st.file_uploader("JSONL, CSV or Parquet", type=FILE_TYPES, key="upload_file")
        st.text_input("Name", key="upload_name", placeholder="e.g. my-support-tickets")
        scorer = st.selectbox("Scorer", SCORER_KINDS, key="upload_scorer",
                              help="how an answer is compared with the row's answer")
        if scorer == "number":
            st.text_input("Tolerance", key="upload_tolerance", placeholder="0.01, or 1% of the answer")
        if scorer == "judge":
            st.text_area("Rubric", key="upload_rubric", placeholder="What makes an answer correct")
        st.text_input("Problem column", key="upload_problem_col", placeholder="auto: problem, question or input")
        st.text_input("Answer column", key="upload_answer_col", placeholder="auto: answer, target, output, ...")
        st.file_uploader("Verifier (optional)", type=["py"], key="upload_verifier",
                         help="Python defining check(problem, answer) -> True, False or None; it runs in the "
                              "sandbox and lets runs learn without answers")
        st.checkbox("Replace a dataset of the same name", key="upload_replace")
        st.button("Add dataset", key="upload_add", on_click=_add, icon=":material/add:")
        if message is not None:
            getattr(st, message[0])(message[1])
