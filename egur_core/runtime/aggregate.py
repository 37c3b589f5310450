"""Steps that combine or pick apart values: ``vote``, ``select``, ``gather`` and ``extract``.

``vote``/``select``/``gather`` read one variable or several, so "chain of thought + code + solver,
then vote" is one strategy: every source contributes its value (or each sample of a list). Ties in
a vote go to the earliest source, so list the most trusted method first; a tool that failed casts
no vote.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from egur_core.runtime.answers import extract_final_answer, normalise_for_vote
from egur_core.runtime.budget import StepFailed
from egur_core.runtime.calls import TOOL_ERROR, StepContext, chat_texts, messages_for
from egur_core.runtime.trace import StepTrace, clip
from egur_core.strategy.model import ExtractStep, GatherStep, SelectStep, VoteStep, sources
from egur_core.strategy.templates import MissingVariable, render

MAX_VOTE_SAMPLES = 256
MAX_VOTE_CHARS = 50_000  # of each ballot, from its end (where the answer is): a vote never holds the loop for long
_PATH_PART = re.compile(r"([A-Za-z_][\w\-]*)|\[(\d+)\]")
_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def candidates(env: dict, names: list[str]) -> list[Any]:
    """The values of ``names`` in order, lists flattened: one entry per sample or per method."""
    found: list[Any] = []
    for name in names:
        if name not in env:
            raise MissingVariable(name)
        value = env[name]
        found += value if isinstance(value, list) else [value]
    return found


async def run_vote(step: VoteStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    ballots = [s for s in candidates(env, sources(step)) if not str(s).startswith(TOOL_ERROR)][:MAX_VOTE_SAMPLES]
    answers = [extract_final_answer(str(s)[-MAX_VOTE_CHARS:]) for s in ballots]
    counts = Counter(normalise_for_vote(a) for a in answers if a)
    if not counts:
        env[step.out] = ""
    else:
        winner = counts.most_common(1)[0][0]
        env[step.out] = next(a for a in answers if normalise_for_vote(a) == winner)
    entry.input = clip(" | ".join(answers))
    entry.output = env[step.out]
    entry.detail["votes"] = ", ".join(f"{k}×{v}" for k, v in counts.most_common(5))


async def run_select(step: SelectStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    samples = candidates(env, sources(step))
    listing = "\n\n".join(f"Candidate {i + 1}:\n{s}" for i, s in enumerate(samples))
    prompt = f"{render(step.prompt, env)}\n\n{listing}\n\nReply with 'Best: <number>' and nothing else."
    entry.input = clip(prompt)
    system = render(step.system, env) if step.system else ""
    [reply] = (await chat_texts(ctx, entry, messages_for(system, prompt), alias=step.model,
                                sampling=step.request()))[:1] or [""]
    match = re.search(r"(\d+)", reply)
    choice = int(match.group(1)) - 1 if match else 0
    choice = choice if 0 <= choice < len(samples) else 0
    env[step.out] = samples[choice] if samples else ""
    entry.output = clip(str(env[step.out]))
    entry.detail["chosen"] = choice + 1


async def run_gather(step: GatherStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    env[step.out] = candidates(env, sources(step))
    entry.output = clip(" | ".join(str(v) for v in env[step.out]))
    entry.detail["items"] = len(env[step.out])


async def run_extract(step: ExtractStep, env: dict, ctx: StepContext, entry: StepTrace) -> None:
    if step.from_ not in env:
        raise MissingVariable(step.from_)
    text = env[step.from_]
    entry.input = clip(str(text))
    found = field_at(json_in(text), step.path)
    if found is None:
        if step.default is None:
            raise StepFailed(step.id, f"step '{step.id}' found no '{step.path}' in the JSON of '{step.from_}'")
        found, entry.detail["default_used"] = step.default, True
    env[step.out] = as_variable(found)
    entry.output = clip(str(env[step.out]))


def json_in(value: Any) -> Any:
    """The JSON a model wrote: the whole text, a fenced block, or the first object/array in the prose."""
    if isinstance(value, dict | list):
        return value
    text = str(value).strip()
    for candidate in [text, *(m.group(1) for m in _FENCED.finditer(text))]:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            return decoder.raw_decode(text, match.start())[0]
        except json.JSONDecodeError:
            continue
    return None


def field_at(data: Any, path: str) -> Any:
    """``data`` at a dotted path (``a.b[0].c``); None when any part is missing."""
    for name, index in _PATH_PART.findall(path):
        if name and isinstance(data, dict):
            data = data.get(name)
        elif index and isinstance(data, list) and int(index) < len(data):
            data = data[int(index)]
        else:
            return None
    return data


def as_variable(value: Any) -> Any:
    """A JSON value as a strategy variable: an array is a list, a boolean a flag, the rest text."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in value]
    return json.dumps(value, ensure_ascii=False)
