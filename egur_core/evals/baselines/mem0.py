"""Mem0-style memory: facts extracted from each solved problem, embedded, the nearest ones retrieved.

Before a problem, the ``k_facts`` facts most similar to it (cosine over ``FLOAT[dim]`` embeddings
in DuckDB) are pasted in front of a fixed chain-of-thought prompt. After it, an extractor model
turns the problem, the output and (unless label-free) the verdict into short facts, which are
added with near-duplicate suppression (Mem0's current ADD-only algorithm with dedup). The
extractor is billed as consolidator cost; embeddings are the memory's own (local) embedder.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from egur_core.evals.baselines.base import Attempt, Baseline, BaselineConfig, clip, cot_with_context
from egur_core.evals.baselines.memory_tables import add_facts, search_facts
from egur_core.llm.json_repair import extract_json
from egur_core.reasoner.role_calls import UsageTotals, context_block
from egur_core.reasoner.task import Task
from egur_core.strategy.model import Strategy
from egur_core.strategy.sampling import Sampling

MEMORIES_HEADER = "MEMORIES (facts remembered from earlier problems, most relevant first):"
EXTRACTOR_MARKER = "You are the memory extractor of a Mem0-style memory."
EXTRACTOR_HEADER = "MEM0_EXTRACTOR_CONTEXT"
NO_MEMORIES = "(none yet)"


class FactList(BaseModel):
    facts: list[str] = Field(default_factory=list, description="short, self-contained facts worth remembering")


def mem0_strategy() -> Strategy:
    return cot_with_context("mem0-facts-cot",
                            "Chain of thought with the most similar remembered facts prepended to the problem.",
                            MEMORIES_HEADER, "memories")


def extractor_messages(problem: str, output: str, feedback: bool | None) -> list[dict]:
    verdict = {True: "correct", False: "incorrect", None: "unknown"}[feedback]
    system = (f"{EXTRACTOR_MARKER} From one attempted problem, extract at most 3 short, self-contained facts that "
              "would help on future, different problems: which method worked or failed on this kind of problem, "
              "pitfalls, checks. Each fact names the kind of problem it is about. "
              'Reply with JSON only: {"facts": ["..."]}')
    context = {"problem": clip(problem, 20000), "model_output": clip(output, 2000), "answer_was": verdict}
    return [{"role": "system", "content": system},
            {"role": "user", "content": context_block(EXTRACTOR_HEADER, context) + "Extract the facts."}]


def format_memories(facts: list[dict]) -> str:
    return "\n".join(f"- {f['text']}" for f in facts) or NO_MEMORIES


class Mem0Style(Baseline):
    name = "mem0"

    async def attempt(self, problem: Task, config: BaselineConfig, run_id: str, idx: int) -> Attempt:
        with self.memory.session() as store:
            facts = search_facts(store, config.scope, problem.text, config.k_facts)
        strategy = mem0_strategy()
        result = await self.runtime.execute(strategy, problem.text, {"memories": format_memories(facts)})
        shown = ", ".join(f"#{f['fact_id']} ({f['similarity']:.2f})" for f in facts) or "none"
        return Attempt(strategy, result, rationale=f"retrieved facts: {shown}",
                       info={"facts": [int(f["fact_id"]) for f in facts]})

    async def learn(self, problem: Task, attempt: Attempt, feedback: bool | None, config: BaselineConfig,
                    run_id: str, idx: int) -> UsageTotals:
        usage = UsageTotals()
        output = next((t.output for t in reversed(attempt.result.trace) if t.op == "llm"), "") or ""
        messages = extractor_messages(problem.text, output or attempt.result.error or "", feedback)
        try:  # plain chat + JSON repair (Mem0's own extraction is a JSON-mode prompt, not a strict schema)
            reply = await self.llm.chat(messages, alias=self.curator_alias(config), role="consolidator",
                                        sampling=Sampling(max_tokens=800))
        except Exception:  # noqa: BLE001 - no facts this time; the run goes on
            return usage
        usage.add(reply)
        facts = parse_facts(reply.texts[0] if reply.texts else "")
        if facts:
            with self.memory.session() as store:
                add_facts(store, config.scope, [clip(f, 400) for f in facts[:3]], run_id, idx)
        return usage


def parse_facts(text: str) -> list[str]:
    """The facts in a reply; [] for anything unusable (a bad reply just teaches nothing)."""
    try:
        return FactList.model_validate(extract_json(text)).facts
    except (ValueError, TypeError):
        return []
