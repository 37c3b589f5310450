"""What every page shares: the memory file, the settings, the simulated-model badge, errors.

Not a page itself (app.py lists the pages explicitly). The dashboard never holds the DuckDB file
while idle: each render opens a short session, so `egur` on the command line can use the same
file; a running job shares the same in-process connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from egur_core.app.services import default_db, resolve_settings, role_summary, sandbox_banner
from egur_core.llm import Settings
from egur_core.memory.database import MemoryFile, MemoryFileBusy, MemoryFileError
from egur_core.memory.store import MemoryStore


def _leave_pages_directory_mode() -> None:
    """A deep link (say /memory) as a fresh server's first request runs the page file directly in
    Streamlit's legacy pages-directory mode: the sidebar lists every file in pages/ and app.py's
    router never runs. Switch that mode off and rerun, so app.py's st.navigation serves the URL."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_directory_mode()


def db_path() -> str:
    return default_db()


@st.cache_resource
def memory_file(path: str) -> MemoryFile:
    return MemoryFile(path, wait_s=10.0)


@contextmanager
def memory() -> Iterator[MemoryStore]:
    """A short session on the memory file; a busy, corrupt or unreadable file becomes a clear message, not a
    traceback."""
    try:
        with memory_file(db_path()).session() as store:
            yield store
    except MemoryFileBusy as exc:
        st.error(f"The memory file is in use by another program. {exc}")
        st.stop()
    except MemoryFileError as exc:
        st.error(f"The memory file `{db_path()}` cannot be used: {exc}")
        st.stop()


def settings() -> Settings:
    """The session's settings: what the Settings page chose, else config file / env / simulated default."""
    if "settings" not in st.session_state:
        st.session_state.settings = resolve_settings()
    return st.session_state.settings


def model_badge() -> None:
    """Always say whether answers come from the simulated model."""
    sandbox_banner(st.error)
    current = settings()
    if current.is_simulated:
        st.caption(f":orange-badge[:material/science: Simulated model, offline] {role_summary(current)} · "
                   f"memory file `{db_path()}`")
    else:
        st.caption(f":green-badge[:material/cloud: Live endpoint] {role_summary(current)} · "
                   f"memory file `{db_path()}`")


def text_block(text: str | None, max_height: int = 260, empty: str = "(none)") -> None:
    """Model or problem text, verbatim (no Markdown, no LaTeX), scrolling past ``max_height`` pixels."""
    body = text if text else empty
    lines = sum(1 + len(line) // 90 for line in body.splitlines()) or 1
    st.code(body, language=None, wrap_lines=True, height=max_height if lines * 21 + 24 > max_height else "content")


def blanks(frame: pd.DataFrame, columns: list[str] | None = None, dash: str = "–") -> pd.DataFrame:
    """Missing values shown as a dash, not the grid's literal "None" (text columns, or the ``columns`` given,
    which become text)."""
    chosen = columns if columns is not None else [c for c in frame.columns if frame[c].dtype == object
                                                  or pd.api.types.is_string_dtype(frame[c])]
    out = frame.copy()
    for column in chosen:
        out[column] = [dash if v is None or (isinstance(v, float) and v != v) or v is pd.NA else
                       (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in out[column]]
    return out
