"""How many tokens a text is, before any model has counted it: the one estimate every layer uses.

The runtime checks a call fits the budget before sending it; the model client fills in usage for
endpoints that report none. Both must agree, so the rule lives here, at the bottom.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 4.0
MESSAGE_OVERHEAD_TOKENS = 4  # role markers etc. per chat message, as OpenAI's tokenizer notes describe


def estimate_tokens(text: str) -> int:
    """~4 characters per token: the usual rule of thumb for English and code with BPE tokenizers."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: list[dict]) -> int:
    total = 0
    for m in messages:
        content = m.get("content") or ""
        if isinstance(content, list):  # multi-part content: count the text parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        total += estimate_tokens(str(content)) + MESSAGE_OVERHEAD_TOKENS
    return total
