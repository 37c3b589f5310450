"""Which sandbox a code step gets on this host, and the banner that says so.

``kernel`` wherever bubblewrap can build namespaces; otherwise code steps are ``refused``, unless the
user explicitly opted into ``unsafe`` mode (``EGUR_UNSAFE_SANDBOX=1`` or ``egur --unsafe-sandbox``),
which every page and the CLI then show through :func:`sandbox_notice`.
"""

from __future__ import annotations

import os
from typing import Literal

from egur_core.tools.sandbox_bwrap import bwrap_problem

SandboxMode = Literal["kernel", "unsafe", "refused"]
UNSAFE_ENV = "EGUR_UNSAFE_SANDBOX"
_unsafe_allowed = {"flag": False}


def allow_unsafe_sandbox(allowed: bool = True) -> None:
    """The user's explicit opt-in (``egur --unsafe-sandbox``), same as setting ``EGUR_UNSAFE_SANDBOX=1``."""
    _unsafe_allowed["flag"] = allowed


def unsafe_requested() -> bool:
    return _unsafe_allowed["flag"] or os.environ.get(UNSAFE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def sandbox_mode() -> SandboxMode:
    """``kernel`` wherever bubblewrap works; otherwise ``unsafe`` if the user opted in, else ``refused``."""
    if bwrap_problem() is None:
        return "kernel"
    return "unsafe" if unsafe_requested() else "refused"


def refusal_message() -> str:
    return (f"code steps are refused: this host cannot isolate them, because {bwrap_problem()}. Install "
            f"bubblewrap, or run them without isolation at your own risk with {UNSAFE_ENV}=1 or "
            "`egur --unsafe-sandbox`")


def sandbox_notice() -> str | None:
    """The banner for the CLI and every page: None when model code runs in the kernel sandbox."""
    mode = sandbox_mode()
    if mode == "kernel":
        return None
    if mode == "unsafe":
        return (f"UNSAFE MODE: model-written code runs WITHOUT kernel isolation and can read the files this user "
                f"can, because {UNSAFE_ENV} or --unsafe-sandbox is set and {bwrap_problem()}")
    return refusal_message()
