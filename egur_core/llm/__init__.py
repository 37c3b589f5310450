"""Every model call in EGuR goes through :class:`LLMClient`, over the real ``openai`` SDK.

Import from here: settings (:func:`load_settings`, :func:`simulated_settings`), the client and its
result types, and :func:`extract_json`. See ``config.py`` for the settings file format.

Layer: above ``strategy``; beside ``runtime``, ``memory`` and ``tools``, which it never imports. Nothing here
knows the simulated model: its transport is handed in.
"""

from egur_core.llm.client import LLMClient
from egur_core.llm.config import (
    EndpointConfig,
    ModelSpec,
    Role,
    Settings,
    load_settings,
    save_settings,
    simulated_settings,
)
from egur_core.llm.errors import LLMError
from egur_core.llm.json_repair import extract_json
from egur_core.llm.pricing import Usage
from egur_core.llm.results import CallRecord, ChatResult
from egur_core.llm.structured import StructuredResult

__all__ = [
    "CallRecord", "ChatResult", "EndpointConfig", "LLMClient", "LLMError", "ModelSpec", "Role", "Settings",
    "StructuredResult", "Usage", "extract_json", "load_settings", "save_settings", "simulated_settings",
]
