"""Dynamic Cheatsheet (cumulative, "DC-Cu"): one growing cheatsheet, rewritten after every problem.

The executor runs a fixed chain-of-thought strategy whose prompt starts with the current
cheatsheet; after the answer, a curator model rewrites the whole sheet from the problem, the
model's output and (unless label-free) whether it was right. Every version is stored, so the
sheet's growth can be inspected. The curator is billed as consolidator cost.
"""

from __future__ import annotations

import re

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig, clip, cot_with_context
from egur_core.evals.baselines.memory_tables import latest_cheatsheet, save_cheatsheet
from egur_core.reasoner.role_calls import UsageTotals, context_block
from egur_core.reasoner.task import Task
from egur_core.strategy.model import Strategy
from egur_core.strategy.sampling import Sampling

CHEATSHEET_HEADER = "CHEATSHEET (insights curated from earlier problems; use what applies):"
CURATOR_MARKER = "You are the cheatsheet curator of a Dynamic Cheatsheet memory."
CURATOR_HEADER = "CHEATSHEET_CURATOR_CONTEXT"
EMPTY_SHEET = "(empty: no problems seen yet)"
_SHEET_RE = re.compile(r"<cheatsheet>(.*?)(?:</cheatsheet>|$)", re.DOTALL | re.IGNORECASE)


def dc_strategy() -> Strategy:
    """The shipped chain of thought with the cheatsheet in front of the problem (a strategy like any other)."""
    return cot_with_context("dc-cheatsheet-cot",
                            "Chain of thought with the Dynamic Cheatsheet prepended to the problem.",
                            CHEATSHEET_HEADER, "cheatsheet")


def curator_messages(sheet: str, problem: str, output: str, feedback: bool | None, max_words: int) -> list[dict]:
    verdict = {True: "correct", False: "incorrect", None: "unknown (no label: judge the answer yourself)"}[feedback]
    system = (f"{CURATOR_MARKER} After each problem you rewrite the whole cheatsheet so that it helps on future "
              "problems: keep general strategies, checks, pitfalls and reusable snippets; drop what only fit one "
              f"problem or proved wrong; merge duplicates; stay under {max_words} words. Reply with the new "
              "cheatsheet between <cheatsheet> and </cheatsheet>, nothing else.")
    context = {"cheatsheet": sheet, "problem": clip(problem, 20000), "model_output": clip(output, 2000),
               "answer_was": verdict}
    return [{"role": "system", "content": system},
            {"role": "user", "content": context_block(CURATOR_HEADER, context) + "Rewrite the cheatsheet."}]


def parse_sheet(text: str, previous: str, max_words: int) -> str:
    """The sheet between the tags; the previous one when the reply has none (a bad reply loses nothing)."""
    match = _SHEET_RE.search(text or "")
    sheet = match.group(1).strip() if match else ""
    if not sheet:
        return previous
    words = sheet.split()
    return sheet if len(words) <= max_words * 1.5 else " ".join(words[: int(max_words * 1.5)])


class DynamicCheatsheet(Baseline):
    name = "dc"

    async def attempt(self, problem: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        with self.memory.session() as store:
            version, sheet = latest_cheatsheet(store, config.scope)
        strategy = dc_strategy()
        result = await self.runtime.execute(strategy, problem.text, {"cheatsheet": sheet or EMPTY_SHEET})
        return Attempt(strategy, result, rationale=f"cheatsheet v{version} ({len(sheet.split())} words)",
                       info={"version": version, "sheet": sheet})

    async def learn(self, problem: Task, attempt: Attempt, feedback: bool | None, config: BaselineConfig,
                    run_id: str, idx: int) -> UsageTotals:
        usage = UsageTotals()
        previous = attempt.info["sheet"]
        output = next((t.output for t in reversed(attempt.result.trace) if t.op == "llm"), "") or ""
        messages = curator_messages(previous, problem.text, output or attempt.result.error or "", feedback,
                                    config.cheatsheet_words)
        try:
            reply = await self.llm.chat(messages, alias=self.curator_alias(config), role="consolidator",
                                        sampling=Sampling(max_tokens=3000))
        except Exception:  # noqa: BLE001 - a failed curator keeps the old sheet; the run goes on
            return usage
        usage.add(reply)
        sheet = parse_sheet(reply.texts[0] if reply.texts else "", previous, config.cheatsheet_words)
        with self.memory.session() as store:
            save_cheatsheet(store, config.scope, sheet, run_id, idx, reply.usage.completion_tokens)
        return usage
