"""How an ``agent`` step's tool calls travel, natively or as text.

Every tool takes one string (``Tool.run(input)``), so its native definition is a function with one
string argument, ``input``. Endpoints that refuse native ``tools`` get the same conversation as a
text protocol instead (``ACTION``/``INPUT``/``FINAL``). The tool registry writes the definitions,
the model client rewrites a conversation into the text protocol and parses replies back into tool
calls, the runtime unwraps the argument: all three read the one convention written here.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOOL_INPUT_ARG = "input"

_ACTION = re.compile(r"ACTION:\s*([\w\-]+)\s*\n\s*INPUT:\s*\n?(.*)", re.DOTALL | re.IGNORECASE)
_FINAL = re.compile(r"FINAL:\s*(.*)", re.DOTALL | re.IGNORECASE)


def tool_definition(name: str, description: str, input_format: str) -> dict[str, Any]:
    """A chat-completions function tool; closed and fully required, so strict servers take it as is."""
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "additionalProperties": False, "required": [TOOL_INPUT_ARG],
                       "properties": {TOOL_INPUT_ARG: {"type": "string", "description": input_format}}}}}


def arguments_for(tool_input: str) -> str:
    """The JSON ``arguments`` string of a call with this input."""
    return json.dumps({TOOL_INPUT_ARG: tool_input}, ensure_ascii=False)


def input_from_arguments(arguments: str | dict[str, Any] | None) -> str:
    """The tool input in a call's ``arguments``, leniently: small models rename the field or send plain text."""
    data: Any = arguments
    if isinstance(arguments, str):
        try:
            data = json.loads(arguments)
        except json.JSONDecodeError:
            return arguments
    if isinstance(data, dict):
        if isinstance(data.get(TOOL_INPUT_ARG), str):
            return data[TOOL_INPUT_ARG]
        strings = [v for v in data.values() if isinstance(v, str)]
        if len(strings) == 1:
            return strings[0]
        return json.dumps(data, ensure_ascii=False)
    return "" if data is None else str(data)


def text_protocol(tools: list[dict[str, Any]]) -> str:
    """The instructions that replace native tools: one line per tool, then the reply format."""
    described = "\n".join(f"- {t['function']['name']}: {t['function'].get('description', '')}" for t in tools)
    return ("You can use these tools:\n" + described + "\n\nTo call a tool reply with exactly:\nACTION: <tool name>\n"
            "INPUT:\n<the tool input>\n\nWhen you are done reply with:\nFINAL: <your final answer>")


def action_text(name: str, tool_input: str) -> str:
    return f"ACTION: {name}\nINPUT:\n{tool_input}"


def observation_text(result: str) -> str:
    return f"OBSERVATION:\n{result}"


def parse_action(text: str) -> tuple[str, str] | None:
    """``(tool name, input)`` when a text-protocol reply asks for a tool (and gives no final answer)."""
    if _FINAL.search(text):
        return None
    match = _ACTION.search(text)
    return (match.group(1), match.group(2).strip()) if match else None


def final_answer(text: str) -> str:
    """A final reply without the ``FINAL:`` marker (native replies usually have none)."""
    match = _FINAL.search(text)
    return match.group(1).strip() if match else text.strip()
