"""The simulated model in the baselines' roles: DC curator, Mem0 fact extractor, and an executor
whose prompt carries a cheatsheet or remembered facts.

What is modelled, and why it is shaped this way:

* A reflecting model sometimes names *the method that works* for a problem family (one
  sentence per family in :data:`FAMILY_HINTS`); more often after a wrong answer (a mistake
  prompts reflection) than after a right one. Otherwise it records worked examples, which are
  problem-specific and help nothing on new problems, as real cheatsheets mostly do.
* An executor whose prompt contains its family's hint is a bit more accurate (``HINT_BONUS`` in
  logits: e.g. counting CoT 50% -> ~61%). That is much less than *running* the method: a prompt
  saying "use a SAT solver" does not give a chain of thought a solver, while EGuR's Guide can
  write a strategy that calls one. So text memory helps, a whole strategy helps more.
* The curator rewrites the whole sheet each time and keeps the last ``MAX_EXAMPLES`` examples,
  so the sheet (and the prompt cost of every later problem) grows, then levels off.
"""

from __future__ import annotations

import json
import math
import re

from egur_core.evals.baselines.dc import CHEATSHEET_HEADER, CURATOR_HEADER, CURATOR_MARKER, EMPTY_SHEET
from egur_core.evals.baselines.mem0 import EXTRACTOR_HEADER, EXTRACTOR_MARKER, MEMORIES_HEADER
from egur_core.reasoner.role_calls import parse_context
from egur_core.sim import oracle, skills
from egur_core.sim.requests import Completion, final_line, reasoning

FAMILY_HINTS: dict[str, str] = {
    "sat": "decide satisfiability by unit propagation and backtracking (or a SAT solver), then check every clause.",
    "counting": "list each relevant item with its final quantity, skip the other kinds, then add the list.",
    "arithmetic": "evaluate the custom operators innermost first, writing every intermediate value.",
    "sorting": "map each word to its key under the given order, then compare adjacent pairs.",
    "math": "set up the equations explicitly, solve exactly, and check the integer against every condition.",
    "logic": "track each entity's state in a table, updating it after every statement.",
    "other": "restate what is asked, solve step by step, and check the answer's format.",
}
FAMILY_NAMES = {"sat": "3-SAT", "counting": "counting", "arithmetic": "multi-step arithmetic",
                "sorting": "sorting", "math": "competition math", "logic": "logic", "other": "other"}
HINT_BONUS = 0.45
DISCOVERY_CHANCE = {True: 0.25, False: 0.45, None: 0.25}  # after a right, wrong, unjudged answer
MAX_EXAMPLES = 8


def complete(request):
    """A reply when the request is a baseline role or carries baseline memory; else None (executor proceeds)."""
    if CURATOR_MARKER in request.system:
        return _curate(request)
    if EXTRACTOR_MARKER in request.all_text:
        return _extract(request)
    if CHEATSHEET_HEADER in request.last_user or MEMORIES_HEADER in request.last_user:
        return _answer_with_memory(request)
    return None


def topic(problem: str) -> str:
    """What kind of problem this is, in its own words: its last question, else its first sentence."""
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", " ".join(problem.split())) if s]
    questions = [s for s in sentences if s.endswith("?")]
    chosen = questions[-1] if questions else (sentences[0] if sentences else "")
    return chosen if len(chosen) <= 140 else chosen[:137] + "..."


def _verdict(context: dict) -> bool | None:
    return {"correct": True, "incorrect": False}.get(str(context.get("answer_was", "")).split(" ")[0])


def _example(context: dict) -> str:
    answer = oracle.answer_in(context.get("model_output", "")) or "no answer"
    answer = answer if len(answer) <= 40 else answer[:37] + "..."
    verdict = {True: "right", False: "wrong", None: "unchecked"}[_verdict(context)]
    return f"- Example: {topic(context.get('problem', ''))} -> {answer} ({verdict})"


def _curate(request):
    context = parse_context(request.messages, CURATOR_HEADER) or {}
    family = oracle.identify(context.get("problem", "")).family
    hint = FAMILY_HINTS.get(family, FAMILY_HINTS["other"])
    sheet = str(context.get("cheatsheet", ""))
    lines = [line for line in sheet.splitlines() if line.strip() and line.strip() != EMPTY_SHEET]
    strategies = [line for line in lines if not line.startswith("- Example:")]
    examples = [line for line in lines if line.startswith("- Example:")]
    if hint not in sheet and request.rng.random() < DISCOVERY_CHANCE[_verdict(context)]:
        strategies.append(f"- Strategy for {FAMILY_NAMES.get(family, family)} problems: {hint}")
    examples = (examples + [_example(context)])[-MAX_EXAMPLES:]
    text = "<cheatsheet>\n" + "\n".join(strategies + examples) + "\n</cheatsheet>"
    return Completion(text=text, completion_tokens=min(request.max_tokens, skills.estimate_tokens(text) + 120))


def _extract(request):
    context = parse_context(request.messages, EXTRACTOR_HEADER) or {}
    problem = context.get("problem", "")
    family = oracle.identify(problem).family
    answer = oracle.answer_in(context.get("model_output", "")) or "no answer"
    verdict = {True: "right", False: "wrong", None: "unchecked"}[_verdict(context)]
    facts = [f"{topic(problem)} Answered {answer[:40]} ({verdict})."]
    if request.rng.random() < DISCOVERY_CHANCE[_verdict(context)]:
        facts.append(f"For {FAMILY_NAMES.get(family, family)} problems like '{topic(problem)}': "
                     f"{FAMILY_HINTS.get(family, FAMILY_HINTS['other'])}")
    text = json.dumps({"facts": facts})
    return Completion(text=text, completion_tokens=min(request.max_tokens, skills.estimate_tokens(text) + 60))


def hint_bonus(family: str, prompt: str) -> float:
    """Logit bonus for a prompt that names the method that works for this family."""
    return HINT_BONUS if FAMILY_HINTS.get(family, "\0") in prompt else 0.0


def _answer_with_memory(request):
    known = oracle.identify(request.all_text)
    method = "cot" if ("step by step" in request.all_text.lower() or "think" in request.system.lower()) else "direct"
    p = skills.accuracy(known.family, method, request.model, known.difficulty, request.temperature)
    logit = math.log(p / (1 - p)) + hint_bonus(known.family, request.last_user)
    right = request.rng.random() < 1 / (1 + math.exp(-logit)) and known.problem is not None
    answer = oracle.right_answer(known) if right else oracle.wrong_answer(known, request.rng)
    needed = skills.reasoning_tokens(request.model, known.difficulty, method)
    body = reasoning(request.rng, needed) if method == "cot" else ""
    if needed > request.max_tokens:
        return Completion(text=body[: request.max_tokens * 3], completion_tokens=request.max_tokens,
                          finish_reason="length")
    return Completion(text=(body + "\n" + final_line(known, answer)).strip(), completion_tokens=needed)
