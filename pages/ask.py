"""Ask: put one problem to EGuR and watch each step; tell it what is right and see what it learns.

Type a problem or pick one from any dataset; see what memory retrieved and the Guide's candidates
(rationale and graph); run all or some; see each answer, trace and cost; then give the right answer
(or mark answers right or wrong) and apply or queue the Consolidator's edits. Every step is one call
into egur_core.app.ask; the question's state lives in the memory file, its id in the URL.
"""

from __future__ import annotations

import streamlit as st

from egur_core.app import ask, ask_views
from egur_core.app.datasets import find_problems, picker
from egur_core.reasoner.ask import AskError, AskState
from egur_core.runtime.answers import extract_final_answer
from egur_core.strategy.graph import to_dot
from pages.common import db_path, memory, memory_file, model_badge, settings

EXPECTED = (ValueError, KeyError, RuntimeError, OSError, AskError)


def step(label: str, action) -> AskState:
    """Run one step with a spinner; a problem becomes a message on the page, never a traceback."""
    try:
        with st.spinner(label):
            return action()
    except EXPECTED as exc:
        st.session_state["ask_error"] = f"{label} failed: {exc.args[0] if isinstance(exc, KeyError) else exc}"
        st.rerun()  # the message is drawn at the top of the page


def show(state: AskState) -> None:
    st.query_params["ask"] = state.run_id
    st.rerun()


def new_question() -> None:
    st.subheader("Your problem", anchor=False)
    typed, pick = st.tabs(["Type a problem", "Pick one from a dataset"])
    with typed:
        st.text_area("Problem", key="ask_text", height=120, placeholder="e.g. How many legs do 3 spiders have?")
    with pick:
        with memory() as store:
            names = [d.name for d in picker(store)]
            left, right = st.columns([1, 2])
            dataset = left.selectbox("Dataset", names, key="ask_dataset")
            search = right.text_input("Search the problems", key="ask_search")
            found = find_problems(store, dataset, search, limit=50) if dataset else []
        options = {p.id: f"{p.id}: {' '.join(p.text.split())[:90]}" for p in found}
        st.selectbox("Problem", list(options), format_func=options.get, key="ask_problem", index=None,
                     placeholder="choose a problem" if options else "no problem matches")
    k = st.number_input("Candidates (k)", 1, 8, 3, key="ask_k", help="how many strategies the Guide writes")
    if st.button("Ask the Guide", key="ask_start", type="primary", icon=":material/psychology:"):
        picked = st.session_state.get("ask_problem")
        request = ask.AskRequest(text=st.session_state.get("ask_text") or "", k=int(k),
                                 dataset=st.session_state.get("ask_dataset") if picked else None, problem_id=picked)
        show(step("Asking the Guide", lambda: ask.start(memory_file(db_path()), settings(), request)))


def retrieved(state: AskState) -> None:
    with st.expander(f"Retrieved from memory: {len(state.retrieved.entries)} strategies, "
                     f"{len(state.retrieved.notes)} notes", expanded=True, icon=":material/neurology:"):
        if not state.retrieved.entries and not state.retrieved.notes:
            st.caption("Nothing yet: memory is empty or nothing is similar to this problem.")
        if state.retrieved.entries:
            st.dataframe(ask_views.retrieved_entries(state), hide_index=True, key="ask_entries")
        if state.retrieved.notes:
            st.dataframe(ask_views.retrieved_notes(state), hide_index=True, key="ask_notes")


def candidate(state: AskState, index: int) -> None:
    c = next(x for x in state.shown if x.index == index)
    result = state.results.get(index)
    with st.container(border=True, key=f"ask_candidate_{index}"):
        title = c.strategy.name if c.strategy else "invalid strategy"
        chosen = " · :green-badge[chosen answer]" if index == state.chosen else ""
        st.markdown(f"**#{index + 1} {title}**{chosen}")
        st.caption(c.rationale or "no rationale")
        if c.strategy is None:
            st.warning("Refused: " + "; ".join(str(i) for i in c.issues))
            return
        if result is None and state.stage in ("proposed", "ran"):
            st.checkbox("Run this one", value=True, key=f"ask_pick_{index}")
        st.graphviz_chart(to_dot(c.strategy, result.trace if result else None))
        if result is not None:
            answer = extract_final_answer(result.answer or "") if result.ok else f"failed: {result.error}"
            st.markdown(f"Answer: `{answer}` · ${result.cost_usd:.5f} · {result.calls} calls")
            with st.expander("Trace", icon=":material/timeline:"):
                st.dataframe(ask_views.trace(result), hide_index=True)


def run_controls(state: AskState) -> None:
    waiting = [c.index for c in state.candidates if c.index not in state.results]
    if not waiting or state.stage not in ("proposed", "ran"):
        return
    picks = [i for i in waiting if st.session_state.get(f"ask_pick_{i}", True)]
    label = "Run all" if len(picks) == len(waiting) and not state.results else f"Run {len(picks)} selected"
    if st.button(label, key="ask_run", type="primary", icon=":material/play_arrow:", disabled=not picks):
        show(step("Running the candidates", lambda: ask.run(memory_file(db_path()), settings(), state.run_id, picks)))


def answers(state: AskState) -> None:
    told = f" · the right answer: `{state.gold}`" if state.gold else " · label-free" if state.label_free else ""
    st.caption(f"Answers (the chosen one was picked without any label){told}")
    st.dataframe(ask_views.answers(state), hide_index=True, key="ask_answers", column_config={
        "chosen": st.column_config.CheckboxColumn("counts"), "right": st.column_config.CheckboxColumn("right"),
        "cost $": st.column_config.NumberColumn(format="$%.5f")})


def feedback(state: AskState) -> None:
    st.subheader("Was it right?", anchor=False)
    answers(state)
    reference = ask.reference_answer(memory_file(db_path()), state)
    if reference:
        st.caption(f"The dataset's answer: `{reference}`")
    st.text_input("The right answer", key="ask_gold", value=reference or "",
                  help="each candidate's answer is compared with it; or mark answers below")
    marks = {c.index: st.segmented_control(f"#{c.index + 1} {c.strategy.name}", ["right", "wrong"],
                                           key=f"ask_mark_{c.index}") for c in state.ran}
    left, right, _ = st.columns([1, 1, 2])
    if left.button("Tell EGuR", key="ask_tell", type="primary", icon=":material/school:"):
        gold = (st.session_state.get("ask_gold") or "").strip() or None
        given = {i: m == "right" for i, m in marks.items() if m} if gold is None else None
        show(step("Consolidating", lambda: ask.tell(memory_file(db_path()), settings(), state.run_id, gold=gold,
                                                    marks=given)))
    if right.button("Learn without feedback", key="ask_label_free", icon=":material/auto_awesome:",
                    help="label-free: the dataset's verifier, else agreement between candidates"):
        show(step("Consolidating", lambda: ask.tell(memory_file(db_path()), settings(), state.run_id)))


def edit_list(consolidation, key: str) -> int:
    """The Consolidator's edits as a list a person reads at a glance (``$`` kept literal, not LaTeX)."""
    frame = ask_views.edits(consolidation)
    with st.container(key=key):
        for row in frame.itertuples():
            reason = f" — _{row.reason}_" if row.reason else ""
            st.markdown(f"- **{row.edit}** {row.details}{reason}".replace("$", "\\$"))
    return len(frame)


def proposed_edits(state: AskState) -> None:
    cons = state.consolidation
    st.subheader("What the Consolidator wants to change", anchor=False)
    st.caption(f"{cons.summary or 'No summary.'} (${cons.cost_usd:.5f})" if cons else "")
    if not edit_list(cons, "ask_edits"):
        st.info("No memory edits proposed.")
    for dropped in (cons.dropped if cons else []):
        st.caption(f"dropped: {dropped}")
    left, right, _ = st.columns([1, 1, 2])
    if left.button("Apply edits", key="ask_apply", type="primary", icon=":material/done_all:"):
        show(step("Applying", lambda: ask.finish(memory_file(db_path()), settings(), state.run_id, apply=True)))
    if right.button("Queue for review", key="ask_queue", icon=":material/rate_review:"):
        show(step("Queuing", lambda: ask.finish(memory_file(db_path()), settings(), state.run_id, apply=False)))


def finished(state: AskState) -> None:
    st.success(f"Memory edits applied: {state.applied}, queued for review: {state.proposed}. Recorded as run "
               f"`{state.run_id}`.", icon=":material/check_circle:")
    edit_list(state.consolidation, "ask_done_edits")
    left, right, _ = st.columns([1, 1, 2])
    left.page_link("pages/memory.py", label="Memory and audit log", icon=":material/neurology:")
    right.page_link("pages/run.py", label="This run", icon=":material/list_alt:", query_params={"run_id": state.run_id})


def question(state: AskState) -> None:
    st.caption(f"Question `{state.run_id}` · {state.task.benchmark} · k={state.config.k} · "
               + " · ".join(f"{role} ${cost:.5f}" for role, cost in ask_views.costs(state).items()))
    st.code(state.task.text, language=None, wrap_lines=True)
    retrieved(state)
    st.subheader(f"The Guide's candidates ({len(state.guide.candidates)})", anchor=False)
    if state.fallback:
        st.info("The Guide proposed nothing that can run, so the fallback strategy stands in (as in a run).")
    if state.guide.error:
        st.warning(f"The Guide: {state.guide.error}")
    for c in state.shown:
        candidate(state, c.index)
    run_controls(state)
    if state.stage == "ran":
        feedback(state)
        return
    if state.stage in ("consolidated", "finished"):
        answers(state)
    if state.stage == "consolidated":
        proposed_edits(state)
    elif state.stage == "finished":
        finished(state)


st.title(":material/help: Ask", anchor=False)
model_badge()
if message := st.session_state.pop("ask_error", None):
    st.error(message)
current = st.query_params.get("ask")
if current and st.button("New question", key="ask_new", icon=":material/add:"):
    del st.query_params["ask"]
    st.rerun()
if current:
    try:
        state = ask.load_state(memory_file(db_path()), current)
    except KeyError as exc:
        st.warning(str(exc.args[0]))
    else:
        question(state)
else:
    new_question()
