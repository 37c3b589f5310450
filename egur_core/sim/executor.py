"""The simulated model as an executor: answers steps the way a model of a given skill would.

It recognises what a step asks for from its prompt (review, judge, agent turn, fact extraction,
code, step-by-step reasoning, or a bare answer), draws "right or wrong" from a seeded coin with
the odds in :mod:`skills`, and writes text in the shape the step expects, so that real tools
run on it: the code it writes really runs in the sandbox and prints the answer.
"""

from __future__ import annotations

import re

from egur_core.sim import baseline_roles, oracle, skills
from egur_core.sim.requests import Completion, ExecutorRequest, final_line, reasoning

_TOOL_LINE = re.compile(r"^- ([\w\-]+):", re.MULTILINE)


def complete(request: ExecutorRequest) -> Completion:
    text, system = request.all_text, request.system.lower()
    if (baseline_reply := baseline_roles.complete(request)) is not None:  # DC curator, Mem0 extractor, memory prompts
        return baseline_reply
    known = oracle.identify(text)
    if "strict reviewer" in system or "pass or fail" in system or "reply pass or fail" in text.lower():
        return _review(request, known)
    if "reply with 'best: <number>'" in request.last_user.lower():
        return _judge(request, known)
    if request.tools or "action: <tool name>" in system:
        return _agent_turn(request, known)
    if "extract" in system and "json" in system and "python" not in system:
        return _facts(request, known)
    if "arithmetic expression" in system:
        return _expression(request, known)
    if "python" in system or "```python" in request.last_user or "solve(" in system:
        return _code(request, known)
    method = "cot" if ("step by step" in text.lower() or "think" in system) else "direct"
    return _answer(request, known, method)


def _draw(request: ExecutorRequest, known: oracle.Known, method: str) -> tuple[bool, str]:
    p = skills.accuracy(known.family, method, request.model, known.difficulty, request.temperature)
    right = request.rng.random() < p and known.problem is not None
    return right, oracle.right_answer(known) if right else oracle.wrong_answer(known, request.rng)


def _answer(request: ExecutorRequest, known: oracle.Known, method: str) -> Completion:
    needed = skills.reasoning_tokens(request.model, known.difficulty, method)
    right, answer = _draw(request, known, method)
    body = reasoning(request.rng, needed) if method == "cot" else ""
    if needed > request.max_tokens:
        return Completion(text=body[: request.max_tokens * 3], completion_tokens=request.max_tokens,
                          finish_reason="length")
    return Completion(text=(body + "\n" + final_line(known, answer)).strip(), completion_tokens=needed)


def _facts(request: ExecutorRequest, known: oracle.Known) -> Completion:
    numbers = re.findall(r"-?\d+", request.last_user)[:12]
    text = '{"quantities": [' + ", ".join(numbers) + '], "asked": "the value the problem asks for"}'
    return Completion(text=text, completion_tokens=min(request.max_tokens, 120 + 8 * len(numbers)))


def _expression(request: ExecutorRequest, known: oracle.Known) -> Completion:
    """A formula for the calculator whose value is the drawn answer (non-numbers cannot be written as one)."""
    right, answer = _draw(request, known, "code")
    if not answer.lstrip("-").isdigit():
        return Completion(text=answer, completion_tokens=20)
    half = int(answer) // 2
    return Completion(text=f"{half} + {int(answer) - half}", completion_tokens=20)


def program_for(answer: str, hard_coded: bool) -> str:
    if hard_coded:
        return f'```python\nprint("The answer is: {answer}")\n```'
    if answer.lstrip("-").isdigit():
        a = int(answer) // 2
        body = f"    partial = {a}\n    return partial + ({int(answer) - a})"
    else:
        body = f"    parts = {answer.split(' ')!r}\n    return ' '.join(parts)"
    return (f"```python\nimport json\n\nfacts = json.loads('{{}}')\n\n\ndef solve(facts):\n{body}\n\n\n"
            f'print("The answer is:", solve(facts))\n```')


def _code(request: ExecutorRequest, known: oracle.Known) -> Completion:
    needed = skills.reasoning_tokens(request.model, known.difficulty, "code")
    right, answer = _draw(request, known, "code")
    if needed > request.max_tokens:
        return Completion(text="```python\ndef solve(facts):\n", completion_tokens=request.max_tokens,
                          finish_reason="length")
    hard_coded = request.rng.random() < 0.2
    return Completion(text=program_for(answer, hard_coded), completion_tokens=needed)


def _review(request: ExecutorRequest, known: oracle.Known) -> Completion:
    prompt = request.last_user
    if "ERROR" in prompt:
        verdict, reason = False, "the program crashed or the tool failed"
    elif "```python" in prompt and "def solve" not in prompt:
        verdict, reason = request.rng.random() > 0.8, "the program hard-codes its answer"
    else:
        truly_right = oracle.is_correct(known, oracle.answer_in(prompt))
        honest = request.rng.random() < skills.critic_accuracy(request.model)
        verdict = truly_right if honest else not truly_right
        reason = "the reasoning holds up" if verdict else "a step does not follow from the facts"
    text = f"{'PASS' if verdict else 'FAIL'}: {reason}."
    return Completion(text=text, completion_tokens=min(request.max_tokens, 20 + len(text) // 4))


def _judge(request: ExecutorRequest, known: oracle.Known) -> Completion:
    candidates = re.split(r"Candidate (\d+):", request.last_user)[1:]
    numbered = [(int(candidates[i]), candidates[i + 1]) for i in range(0, len(candidates) - 1, 2)]
    good = [i for i, body in numbered if oracle.is_correct(known, oracle.answer_in(body))]
    if good and request.rng.random() < skills.critic_accuracy(request.model):
        choice = good[0]
    else:
        choice = request.rng.choice([i for i, _ in numbered] or [1])
    return Completion(text=f"Best: {choice}", completion_tokens=8)


def _agent_turn(request: ExecutorRequest, known: oracle.Known) -> Completion:
    """One turn of an agent, natively (tools in the request, calls in ``tool_calls``) or in the text protocol."""
    native = bool(request.tools)
    tools = request.tools or _TOOL_LINE.findall(request.system)
    tool, said, tokens = _agent_decision(request, known, tools)
    if tool is None:
        return Completion(text=said if native else f"FINAL: {said}", completion_tokens=tokens)
    if native:
        return Completion(text="", completion_tokens=tokens, finish_reason="tool_calls",
                          tool_calls=[(tool, said)])
    return Completion(text=f"ACTION: {tool}\nINPUT:\n{said}", completion_tokens=tokens)


def _agent_decision(request: ExecutorRequest, known: oracle.Known, tools: list[str]) -> tuple[str | None, str, int]:
    """``(tool, input, tokens)``, or ``(None, final answer, tokens)``: the solver for SAT when the model thinks
    of it, a program when it has Python, else an answer from what it read."""
    observation = request.observation
    if observation is not None:
        if observation.startswith(("SAT\n", "UNSAT")):
            return None, observation.replace("\n", ": ", 1) if observation.startswith("SAT") else "UNSAT", 30
        return None, oracle.answer_in(observation) or oracle.wrong_answer(known, request.rng), 30
    uses_solver = request.rng.random() < skills.tool_use_rate(request.model)
    if known.family == "sat" and "sat_solver" in tools and known.problem is not None and uses_solver:
        return "sat_solver", known.problem.text, 60
    right, answer = _draw(request, known, "agent")
    if "python" in tools:
        code = program_for(answer, hard_coded=False).removeprefix("```python\n").removesuffix("\n```")
        return "python", code, skills.reasoning_tokens(request.model, known.difficulty, "agent")
    return None, answer, 40
