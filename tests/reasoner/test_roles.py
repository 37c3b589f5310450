"""Guide and Consolidator replies are checked before they can touch anything."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from egur_core.memory.ops import AddNote, DeleteEntry, RateNote
from egur_core.reasoner.consolidator import consolidate
from egur_core.reasoner.guide import propose_strategies

VALID = {"name": "cot", "steps": [{"id": "a", "op": "llm", "prompt": "{problem}", "out": "r"},
                                  {"id": "f", "op": "answer", "from": "r"}]}
USAGE = SimpleNamespace(prompt_tokens=100, completion_tokens=50)


class Scripted:
    def __init__(self, value=None, error=None, raises=None):
        self.value, self.error, self.raises = value, error, raises

    async def structured(self, messages, schema, **kw):
        if self.raises:
            raise self.raises
        result = SimpleNamespace(cost_usd=0.01, usage=USAGE, calls=1)
        value = schema.model_validate(self.value) if self.value is not None else None
        return SimpleNamespace(value=value, result=result, error=self.error)


def guide(model, k=3):
    return asyncio.run(propose_strategies(model, [], k=k, alias="large", known_tools={"python"},
                                          known_models={"small", "large", "executor"}))


def test_guide_keeps_valid_candidates_and_explains_invalid_ones():
    bad = {**VALID, "steps": [{**VALID["steps"][0], "model": "gpt-99"}, VALID["steps"][1]]}
    outcome = guide(Scripted({"candidates": [{"rationale": "ok", "strategy": VALID},
                                             {"rationale": "bad", "strategy": bad}]}))
    assert [c.strategy is not None for c in outcome.candidates] == [True, False]
    assert "unknown model alias 'gpt-99'" in str(outcome.candidates[1].issues[0])
    assert outcome.cost_usd == 0.01 and outcome.tokens_in == 100


def test_guide_takes_at_most_k_candidates():
    plans = [{"rationale": str(i), "strategy": {**VALID, "name": f"s{i}"}} for i in range(5)]
    assert len(guide(Scripted({"candidates": plans}), k=2).candidates) == 2


def test_guide_endpoint_failure_is_an_error_not_an_exception():
    outcome = guide(Scripted(raises=RuntimeError("connection refused")))
    assert outcome.candidates == [] and "connection refused" in outcome.error


def test_guide_unusable_reply_is_an_error():
    outcome = guide(Scripted(value=None, error="not JSON"))
    assert "unusable" in outcome.error and outcome.cost_usd == 0.01


def consolidator(reply, entries=frozenset({1}), notes=frozenset({5})):
    return asyncio.run(consolidate(Scripted(reply), [], alias="large", shown_entries=set(entries),
                                   shown_notes=set(notes)))


def test_consolidator_ops_are_parsed_into_memory_ops():
    outcome = consolidator({"summary": "s", "ops": [{"op": "add_note", "text": "use the solver"},
                                                    {"op": "rate_note", "note_id": 5, "helpful": 1},
                                                    {"op": "delete_entry", "entry_id": 1}]})
    assert [type(op) for op in outcome.ops] == [AddNote, RateNote, DeleteEntry] and outcome.dropped == []


def test_consolidator_ops_on_unseen_ids_are_dropped_with_a_reason():
    outcome = consolidator({"ops": [{"op": "delete_entry", "entry_id": 99}, {"op": "rate_note", "note_id": 6}]})
    assert outcome.ops == [] and "entry 99 was not shown" in outcome.dropped[0]


def test_consolidator_drops_malformed_ops_and_invalid_strategies():
    outcome = consolidator({"ops": [{"op": "teleport"}, {"op": "add_entry", "signature": "x",
                                                          "strategy": {"name": "x", "steps": []}}]})
    assert outcome.ops == [] and len(outcome.dropped) == 2


def test_consolidator_never_applies_more_than_the_op_limit():
    many = [{"op": "add_note", "text": f"n{i}"} for i in range(20)]
    assert len(consolidator({"ops": many}).ops) == 8

