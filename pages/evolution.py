"""Evolution: how a run's strategies were derived and which ones the library converged on, and when.

The tree of versions (parent -> child) with each one's uses, accuracy and mean cost in the run;
accuracy against cost per version; and which version answered each problem. Queries are in
egur_core.app.evolution, figures in egur_core.app.charts.
"""

from __future__ import annotations

import streamlit as st

from egur_core.app import charts, results_data
from egur_core.app.evolution import MAX_NODES, chosen_timeline, evolution_dot, run_strategies, shown_versions
from pages.common import blanks, memory, model_badge


def pick_run() -> str | None:
    with memory() as store:
        runs = results_data.run_options(store)
    runs = runs[runs["method"] == "egur"]
    if runs.empty:
        st.info("No EGuR run yet. Start one on the **Run** page: every strategy the Guide writes, and what it "
                "was derived from, shows here as a tree.", icon=":material/account_tree:")
        return None
    labels = dict(zip(runs["run_id"], runs["run"] + " · " + runs["done"].astype(str) + " done"))
    wanted = st.query_params.get("run_id") or st.session_state.get("last_run_id")
    if wanted in labels and st.session_state.get("_evolution_wanted") != wanted:
        st.session_state["evolution_run"] = st.session_state["_evolution_wanted"] = wanted
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="evolution_run")
    st.query_params["run_id"] = st.session_state["_evolution_wanted"] = run_id  # the URL follows the picker
    return run_id


def tree(versions) -> None:
    shown = shown_versions(versions)
    ran = int(versions["in_run"].sum())
    linked = int(versions["parent_hash"].isin(set(versions["hash"])).sum())
    st.subheader("Versions as they were derived", anchor=False)
    st.caption(f"{ran} version(s) ran in this run"
               + (f"; the {MAX_NODES} most used are drawn" if ran > MAX_NODES else "")
               + f"; {linked} record the version they came from. Fill: accuracy in this run (green ≥ 75%, "
                 "yellow ≥ 40%, red below, grey: an ancestor not run here); blue border: in the library now.")
    if not linked:
        st.caption("No version here records a parent yet, so there are no edges: each is drawn on its own.")
    st.graphviz_chart(evolution_dot(shown), width="stretch")


def table(versions) -> None:
    shown = blanks(versions[versions["in_run"]].sort_values("uses", ascending=False),
                   ["parent_hash", "last_chosen", "first_problem"])
    st.dataframe(shown, hide_index=True,
                 width="stretch", key="evolution_table", column_order=[
                     "name", "hash", "created_by", "uses", "chosen", "exploited", "accuracy", "mean_cost",
                     "first_problem", "last_chosen", "library_entries", "parent_hash"], column_config={
        "uses": st.column_config.NumberColumn("uses", help="executions in this run"),
        "chosen": st.column_config.NumberColumn("chosen", help="problems it answered"),
        "accuracy": st.column_config.ProgressColumn("accuracy", format="percent", min_value=0, max_value=1),
        "mean_cost": st.column_config.NumberColumn("mean $", format="$%.5f"),
        "first_problem": st.column_config.TextColumn("first #", help="first problem it ran on"),
        "last_chosen": st.column_config.TextColumn("last chosen #", help="last problem it answered"),
        "library_entries": st.column_config.NumberColumn("in library")})


st.title(":material/family_history: Evolution", anchor=False)
model_badge()
run_id = pick_run()
if run_id:
    with memory() as store:
        versions, timeline = run_strategies(store, run_id), chosen_timeline(store, run_id)
        simulated = bool(store.get_run(run_id)["simulated"])
    if versions.empty:
        st.info("This run has not executed a strategy yet.")
    else:
        tree(versions)
        left, right = st.columns(2)
        left.plotly_chart(charts.strategy_scatter(versions, simulated), key="evolution_scatter")
        right.plotly_chart(charts.strategy_timeline(timeline, simulated=simulated), key="evolution_timeline")
        table(versions)
