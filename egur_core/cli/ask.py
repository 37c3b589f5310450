"""``egur ask``: put one problem to EGuR and watch each step; tell it the right answer so it learns.

    egur ask "How many legs does a spider have?"          # retrieve, Guide's candidates, run them all
    egur ask --session RUN_ID --answer 8                  # the right answer: the Consolidator edits memory
    egur ask --from trivia --id q2 --pick 1,3 --right 1 --review   # picked problem, two candidates, queued edits

Candidates are numbered from 1 as printed. Without a verdict the question stays open (continue it
with ``--session``); ``--no-feedback`` lets it learn label-free (verifier and agreement).
"""

from __future__ import annotations

import argparse
import sys

from egur_core.app import ask
from egur_core.app.services import describe_models, open_memory, resolve_settings
from egur_core.cli.common import add_db_option, add_model_options
from egur_core.reasoner.ask import AskState
from egur_core.runtime.answers import extract_final_answer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="ask EGuR one problem, step by step, and teach it the answer",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", nargs="?", default="", help="the problem (or use --from/--id, or --session)")
    parser.add_argument("--from", dest="dataset", help="pick the problem from this dataset (shipped or yours)")
    parser.add_argument("--id", dest="problem_id", help="the problem's id in --from")
    parser.add_argument("--session", metavar="RUN_ID", help="continue a question asked before")
    parser.add_argument("--k", type=int, default=3, help="candidate strategies the Guide writes (default 3)")
    parser.add_argument("--pick", help="run only these candidates, e.g. 1,3 (default: all)")
    verdict = parser.add_mutually_exclusive_group()
    verdict.add_argument("--answer", help="the right answer")
    verdict.add_argument("--right", help="candidate(s) whose answer is right, e.g. 2")
    verdict.add_argument("--wrong", help="candidate(s) whose answer is wrong, e.g. 1,3")
    verdict.add_argument("--no-feedback", action="store_true", help="learn label-free (verifier and agreement)")
    parser.add_argument("--review", action="store_true", help="queue the memory edits for review, don't apply them")
    add_db_option(parser)
    add_model_options(parser)
    parser.set_defaults(handler=cmd_ask)


def _numbers(text: str | None) -> list[int]:
    """'1,3' -> candidate indices [0, 2]."""
    if not text:
        return []
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValueError(f"candidates are numbers like 1 or 1,3, not {text!r}") from None
    if any(v < 1 for v in values):
        raise ValueError("candidates are numbered from 1")
    return [v - 1 for v in values]


def cmd_ask(args: argparse.Namespace) -> int:
    memory = open_memory(args.db)
    settings = resolve_settings(args.model, args.base_url, args.config, sim_seed=args.seed)
    print(describe_models(settings), file=sys.stderr)
    if args.session:
        state = ask.load_state(memory, args.session)
    else:
        if bool(args.dataset) != bool(args.problem_id):
            print("error: --from and --id go together", file=sys.stderr)
            return 2
        request = ask.AskRequest(text=args.problem, dataset=args.dataset, problem_id=args.problem_id, k=args.k)
        state = ask.start(memory, settings, request)
        show_proposal(state)
    if state.stage in ("proposed", "ran") and (state.stage == "proposed" or args.pick):
        picks = _numbers(args.pick) or None
        state = ask.run(memory, settings, state.run_id, picks)
        show_answers(state)
    verdict = args.answer is not None or args.right or args.wrong or args.no_feedback
    if verdict and state.stage in ("ran", "consolidated"):
        marks = {i: True for i in _numbers(args.right)} | {i: False for i in _numbers(args.wrong)}
        state = ask.tell(memory, settings, state.run_id, gold=args.answer, marks=marks or None)
        state = ask.finish(memory, settings, state.run_id, apply=not args.review)
        show_learning(state)
    elif state.stage != "finished":
        print(f"\nTell EGuR what is right:  egur ask --session {state.run_id} --answer ANSWER   "
              f"(or --right N / --wrong N / --no-feedback) --db {args.db}", file=sys.stderr)
    return 0


def show_proposal(state: AskState) -> None:
    print(f"question {state.run_id} ({state.task.benchmark}): {_short(state.task.text, 100)}")
    entries, notes = state.retrieved.entries, state.retrieved.notes
    print(f"retrieved {len(entries)} library entries, {len(notes)} notes")
    for e in entries:
        rate = f"{e.successes}/{e.uses} right" if e.uses else "unused"
        print(f"  entry {e.entry_id}: {e.strategy.name} (similarity {e.similarity:.2f}, {rate})")
    for n in notes:
        print(f"  note {n.note_id}: {_short(n.text, 100)}")
    print(f"the Guide proposed {len(state.guide.candidates)} candidates (${state.guide.cost_usd:.5f})"
          + (f": {state.guide.error}" if state.guide.error else ""))
    if state.fallback:
        print("  nothing runnable: the fallback strategy stands in")
    for c in state.shown:
        name = c.strategy.name if c.strategy else "INVALID"
        why = c.rationale or "; ".join(str(i) for i in c.issues)
        print(f"  #{c.index + 1} {name}: {_short(why, 100)}")


def show_answers(state: AskState) -> None:
    print("answers:")
    for c in state.ran:
        r = state.results[c.index]
        mark = "*" if c.index == state.chosen else " "
        what = extract_final_answer(r.answer or "") if r.ok else f"failed: {r.error}"
        print(f" {mark}#{c.index + 1} {c.strategy.name}: {_short(what, 80)}  (${r.cost_usd:.5f}, {r.calls} calls, "
              f"{len(r.trace)} steps)")
    print(f"chosen answer (* above, no label seen): {extract_final_answer(state.answer or '') or 'none'}")


def show_learning(state: AskState) -> None:
    right = ", ".join(f"#{c.index + 1}" for c in state.ran if state.feedback.get(c.index)) or "none"
    print(f"feedback: {'label-free' if state.label_free else 'right: ' + right}"
          + (f" (right answer {state.gold!r})" if state.gold else ""))
    cons = state.consolidation
    if cons is not None:
        print(f"Consolidator: {cons.summary or 'no summary'} (${cons.cost_usd:.5f})")
        for op in cons.ops:
            print(f"  {op.op}: {_short(getattr(op, 'reason', '') or op.model_dump_json(), 100)}")
        for dropped in cons.dropped:
            print(f"  dropped {dropped}")
    print(f"memory edits applied {state.applied}, queued for review {state.proposed}; recorded as run {state.run_id}")


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
