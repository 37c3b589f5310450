"""How every page draws a strategy: a readable graph and a step picker that opens one step (prompt,
model, sampling and, with a trace, inputs, outputs, tokens and cost). Not a page (app.py lists them)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from egur_core.app.step_details import step_detail, step_ids
from egur_core.runtime.trace import StepTrace
from egur_core.strategy.graph import to_dot
from egur_core.strategy.model import Strategy
from pages.common import text_block

LEGEND = "Green steps ran, red ones failed, grey dashed ones were skipped; labels add $ and seconds."


def strategy_graph(strategy: Strategy, trace: Sequence[StepTrace] | None = None,
                   highlight: dict[str, str] | None = None) -> None:
    """Top to bottom at its natural size (12-pt text); the chart's fullscreen button zooms."""
    st.graphviz_chart(to_dot(strategy, trace, highlight=highlight), width="content")


def _line(values: dict) -> str:
    return " · ".join(f"{k} `{v}`" for k, v in values.items())


def step_panel(strategy: Strategy, trace: Sequence[StepTrace] | None, key: str) -> None:
    """Pick a step; show what it is and, with a trace, what it did."""
    ops = {s.id: s.op for s in strategy.iter_steps()}
    pick = st.selectbox("Open a step", step_ids(strategy), key=key, format_func=lambda i: f"{i} [{ops[i]}]")
    detail = step_detail(strategy, pick, trace)
    if detail.note:
        st.caption(detail.note)
    if detail.sampling:
        st.markdown(_line(detail.sampling))
    if detail.wiring:
        st.caption(_line(detail.wiring))
    for name, text in detail.texts.items():
        st.markdown(f"**{name}** (template)")
        text_block(text, 200)
    if trace is None:
        return
    if not detail.runs:
        st.caption("This step did not run in this execution.")
    for n, run in enumerate(detail.runs, start=1):
        head = (f"{'round ' + str(run.iteration) + ' · ' if run.iteration else ''}{'ok' if run.ok else 'failed'} · "
                f"{run.calls} call(s) · {run.tokens_in} in / {run.tokens_out} out tokens · ${run.cost_usd:.5f} · "
                f"{run.latency_s:.2f}s")
        with st.expander(head, expanded=n == 1):
            if run.error:
                st.error(run.error)
            if run.detail:
                st.caption(_line(run.detail))
            st.markdown("**input** (as sent)")
            text_block(run.input)
            st.markdown("**output**")
            text_block(run.output)
