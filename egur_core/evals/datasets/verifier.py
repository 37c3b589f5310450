"""A dataset's own verifier: ``check(problem, answer) -> True | False | None``, run in the sandbox only.

The source is the person's, but the answer it is called with is model-written, and the source may
come from anywhere; so it never runs in this process. Each call is one sandbox run
(:func:`egur_core.tools.sandbox.run_python_async`: its own process, no network, scratch directory,
time and memory limits): the problem and the answer are embedded as JSON string literals (data,
never code), and the verdict comes back as one tagged line on stdout. Anything else (an exception,
a timeout, a verdict that is not True/False/None) means "cannot tell" (None), with the reason kept.
Here, the host only parses the source (``ast``) to say early that it has no ``check``.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import json
import threading
from dataclasses import dataclass

from egur_core.tools.sandbox import run_python_async

VERDICT_TAG = "EGUR_VERDICT "
_HARNESS = """
import json as _egur_json
_EGUR_PROBLEM = _egur_json.loads({problem})
_EGUR_ANSWER = _egur_json.loads({answer})
{source}

_egur_verdict = check(_EGUR_PROBLEM, _EGUR_ANSWER)
_egur_plain = _egur_verdict is None or isinstance(_egur_verdict, bool)
print()
print({tag!r} + _egur_json.dumps(_egur_verdict if _egur_plain else repr(_egur_verdict)))
"""


class VerifierSourceError(ValueError):
    """The verifier's source cannot be used (syntax error, no ``check(problem, answer)``)."""


def check_source(source: str) -> None:
    """Refuse, without running it, a source that does not define ``check(problem, answer)``."""
    try:
        tree = ast.parse(source or "", filename="verifier.py")
    except SyntaxError as exc:
        raise VerifierSourceError(f"the verifier is not valid Python: line {exc.lineno}: {exc.msg}") from None
    check = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "check"), None)
    if check is None:
        raise VerifierSourceError("the verifier must define a function check(problem, answer) that returns "
                                  "True, False or None")
    positional = len(check.args.posonlyargs) + len(check.args.args)
    if positional < 2 and check.args.vararg is None:
        raise VerifierSourceError(f"check takes {positional} argument(s); it must take (problem, answer)")


@dataclass(frozen=True)
class VerifierOutcome:
    verdict: bool | None
    error: str | None = None
    seconds: float = 0.0


def program(source: str, problem: str, answer: str) -> str:
    """The sandbox program: the inputs as JSON string literals, the source, the tagged verdict."""
    return _HARNESS.format(problem=repr(json.dumps(problem)), answer=repr(json.dumps(answer)), source=source,
                           tag=VERDICT_TAG)


def parse_verdict(stdout: str) -> tuple[bool | None, str | None]:
    """The verdict from the last tagged line; (None, why) when there is none or it is not a verdict."""
    line = next((x for x in reversed(stdout.splitlines()) if x.startswith(VERDICT_TAG)), None)
    if line is None:
        return None, "the verifier printed no verdict"
    try:
        value = json.loads(line[len(VERDICT_TAG):])
    except json.JSONDecodeError:
        return None, "the verifier's verdict was unreadable"
    if value is None or isinstance(value, bool):
        return value, None
    return None, f"check returned {value}, not True, False or None"


def _blocking(coroutine_factory):
    """Run a coroutine to completion from sync code, in a worker thread (the caller may be inside a loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result()


class SandboxVerifier:
    """A :data:`egur_core.reasoner.task.Verifier` for a dataset: each (problem, answer) checked once, in the sandbox."""

    def __init__(self, source: str, *, timeout: float = 10.0, memory_mb: int = 256):
        check_source(source)
        self.source, self.timeout, self.memory_mb = source, timeout, memory_mb
        self._memo: dict[tuple[str, str], VerifierOutcome] = {}
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def __call__(self, problem: str, answer: str) -> bool | None:
        return self.run(problem, answer).verdict

    def run(self, problem: str, answer: str) -> VerifierOutcome:
        key = (problem, answer)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        outcome = _blocking(lambda: self.run_async(problem, answer))
        with self._lock:
            self._memo[key] = outcome
            if outcome.error:
                self.errors.append(outcome.error)
        return outcome

    async def run_async(self, problem: str, answer: str) -> VerifierOutcome:
        result = await run_python_async(program(self.source, problem, answer), timeout=self.timeout,
                                        memory_mb=self.memory_mb, max_output_bytes=200_000)
        if not result.ok:
            return VerifierOutcome(None, f"the verifier failed: {result.error}", result.seconds)
        verdict, why = parse_verdict(result.output)
        return VerifierOutcome(verdict, why, result.seconds)
