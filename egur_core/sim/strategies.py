"""The strategies the simulated Guide knows how to write, and how it makes one cheaper.

A real Guide writes strategies from scratch; the simulated one composes them from these
templates, so its candidates are diverse, valid and of very different cost and accuracy.
"""

from __future__ import annotations

import copy
from typing import Any

COT_SYSTEM = "You are a careful problem solver. Think step by step, then end with 'The answer is: <answer>'."
CODE_SYSTEM = ("Write a Python program with a function solve(facts) that computes the answer, then prints "
               "'The answer is: ' followed by solve(facts). Never hard-code the answer. "
               "Reply with one ```python block.")


def _llm(step_id: str, model: str, system: str, out: str, *, prompt: str = "{problem}", temperature: float = 0.0,
         max_tokens: int = 2048, n: int = 1) -> dict[str, Any]:
    return {"id": step_id, "op": "llm", "model": model, "system": system, "prompt": prompt,
            "temperature": temperature, "max_tokens": max_tokens, "n": n, "out": out}


def _answer(var: str, step_id: str = "final") -> dict[str, Any]:
    return {"id": step_id, "op": "answer", "from": var}


def _strategy(name: str, summary: str, steps: list[dict], calls: int, tokens: int, paradigm: str = "workflow"):
    return {"name": name, "paradigm": paradigm, "summary": summary,
            "budget": {"max_calls": calls, "max_tokens": tokens, "max_seconds": 240}, "steps": steps}


def direct_cheap() -> dict:
    return _strategy("direct-cheap", "Answer at once with the cheap tier; no reasoning.",
                     [_llm("answer", "cheap", "Give only the final answer as 'The answer is: <answer>'.", "r",
                           max_tokens=256), _answer("r")], 2, 4000)


def cot(model: str = "cheap", max_tokens: int = 2048) -> dict:
    name = f"cot-{model}" + ("-tight" if max_tokens < 1000 else "")
    return _strategy(name, f"One chain of thought with the {model} model.",
                     [_llm("think", model, COT_SYSTEM, "r", max_tokens=max_tokens), _answer("r")], 2, 8000)


def self_consistency(n: int = 5, model: str = "cheap") -> dict:
    return _strategy(f"sc-{n}-{model}", f"{n} chains of thought at T=0.7 and a majority vote.",
                     [_llm("sample", model, COT_SYSTEM, "samples", temperature=0.7, n=n),
                      {"id": "vote", "op": "vote", "from": "samples", "out": "r"}, _answer("r")], n + 2, 12000 * n)


def code_once(model: str = "cheap") -> dict:
    return _strategy(f"code-once-{model}", "Write a Python program for the problem and run it in the sandbox.",
                     [_llm("write", model, CODE_SYSTEM, "code", max_tokens=1500),
                      {"id": "run", "op": "tool", "tool": "python", "input": "{code}", "out": "r"}, _answer("r")],
                     3, 10000)


def pips_loop(model: str = "cheap", rounds: int = 3) -> dict:
    body = [
        _llm("write_code", model, CODE_SYSTEM, "code", max_tokens=1500,
             prompt="Problem:\n{problem}\n\nFacts:\n{facts}\n\nCritique of the previous attempt:\n{critique?}"),
        {"id": "run", "op": "tool", "tool": "python", "input": "{code}", "out": "r"},
        {"id": "critic", "op": "verify", "method": "llm", "model": model, "flag": "accepted", "feedback": "critique",
         "prompt": "Problem:\n{problem}\n\nProgram:\n{code}\n\nOutput:\n{r}\n\nReply PASS or FAIL with one sentence."},
    ]
    steps = [_llm("facts", model, "Extract every quantity and rule the problem states as a JSON object.", "facts",
                  max_tokens=800),
             {"id": "attempt", "op": "loop", "max_iters": rounds, "until": "accepted", "body": body}, _answer("r")]
    return _strategy(f"pips-loop-{model}-{rounds}", "PIPS: facts as JSON, solve(facts) in Python, a critic "
                     "rejects trivial programs, retry.", steps, 2 + 3 * rounds, 40000)


def sat_solver() -> dict:
    return _strategy("sat-solver", "Hand the CNF formula to the SAT solver; no LLM call.",
                     [{"id": "solve", "op": "tool", "tool": "sat_solver", "input": "{problem}", "out": "r"},
                      _answer("r")], 2, 1000)


def tool_agent(tools: list[str], model: str = "cheap") -> dict:
    usable = [t for t in ("sat_solver", "python", "calculator") if t in tools] or ["python"]
    agent = {"id": "agent", "op": "agent", "model": model, "system": "Solve the problem; use tools to compute.",
             "prompt": "{problem}", "tools": usable, "max_steps": 4, "temperature": 0.0, "max_tokens": 1500,
             "out": "r"}
    return _strategy(f"agent-{model}", f"An agent with {', '.join(usable)}.", [agent, _answer("r")], 10, 30000,
                     paradigm="agentic")


def escalate() -> dict:
    steps = [_llm("draft", "cheap", COT_SYSTEM, "draft"),
             {"id": "check", "op": "verify", "method": "llm", "model": "cheap", "flag": "ok",
              "prompt": "Problem:\n{problem}\n\nProposed solution:\n{draft}\n\nReply PASS or FAIL with one sentence."},
             {"id": "route", "op": "branch", "if": "ok", "then": "final_draft", "else": "strong"},
             _llm("strong", "strong", COT_SYSTEM, "r"), _answer("r", "final_strong"), _answer("draft", "final_draft")]
    return _strategy("escalate-cheap-strong", "Cheap tier first; a critic decides whether to pay for the strong one.",
                     steps, 5, 20000)


def template_pool(tools: list[str]) -> dict[str, tuple[float, dict]]:
    """name -> (prior weight, strategy) for a Guide with no experience yet."""
    pool = {
        "direct-cheap": (1.0, direct_cheap()),
        "cot-cheap": (3.0, cot("cheap")),
        "cot-cheap-tight": (1.0, cot("cheap", 400)),
        "cot-strong": (2.0, cot("strong")),
        "sc-5-cheap": (2.0, self_consistency(5)),
        "code-once-cheap": (2.0, code_once()),
        "pips-loop-cheap-3": (1.5, pips_loop()),
        "escalate-cheap-strong": (1.5, escalate()),
        "agent-cheap": (1.5, tool_agent(tools)),
    }
    if "sat_solver" in tools:
        pool["sat-solver"] = (1.0, sat_solver())
    return pool


def cheaper_variant(strategy: dict) -> dict | None:
    """The same idea for less money: fewer samples, fewer rounds, the cheap tier. None if minimal."""
    variant = copy.deepcopy(strategy)
    changed = False
    for step in _all_steps(variant["steps"]):
        if step.get("n", 1) > 1:
            step["n"] = max(1, step["n"] - 2)
            changed = True
        if step.get("model") == "strong":
            step["model"] = "cheap"
            changed = True
        if step.get("op") == "loop" and step["max_iters"] > 1:
            step["max_iters"] -= 1
            changed = True
    if not changed:
        return None
    variant["name"] = strategy["name"].split("~")[0] + "~cheaper"
    return variant


def cheaper_overrides(strategy: dict) -> dict | None:
    """The compact form of :func:`cheaper_variant`: the same changes as overrides of the strategy, when they can
    be said that way (one model for every model step, one sample count, one loop bound); else None."""
    steps = list(_all_steps(strategy["steps"]))
    overrides: dict = {}
    if any(s.get("model") == "strong" for s in steps) and all(s.get("model", "strong") == "strong" for s in steps
                                                              if "model" in s):
        overrides["model"] = "cheap"
    samples = {s["n"] for s in steps if s.get("n", 1) > 1}
    if len(samples) == 1:
        overrides["n"] = max(1, samples.pop() - 2)
    loops = {s["max_iters"] for s in steps if s.get("op") == "loop" and s["max_iters"] > 1}
    if len(loops) == 1:
        overrides["max_iters"] = loops.pop() - 1
    return overrides if overrides and cheaper_variant(strategy) is not None else None


def _all_steps(steps: list[dict]):
    for step in steps:
        yield step
        yield from _all_steps(step.get("body", []))
