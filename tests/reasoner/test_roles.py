"""Guide and Consolidator replies are checked before they can touch anything."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from egur_core.memory.ops import AddNote, DeleteEntry, RateNote
from egur_core.reasoner.consolidator import consolidate
from egur_core.reasoner.guide import Catalogue, GuideReplySchema, propose_strategies
from egur_core.strategy.model import Strategy
from egur_core.strategy.shipped import shipped_strategies

VALID = {"name": "cot", "steps": [{"id": "a", "op": "llm", "prompt": "{problem}", "out": "r"},
                                  {"id": "f", "op": "answer", "from": "r"}]}
USAGE = SimpleNamespace(prompt_tokens=100, completion_tokens=50, cached_prompt_tokens=0, reasoning_tokens=0)


class Scripted:
    """A structured-output client that replies with ``value`` (or each of ``values`` in turn) and records calls."""

    def __init__(self, value=None, error=None, raises=None, values=None):
        self.values = list(values) if values is not None else None
        self.value, self.error, self.raises = value, error, raises
        self.calls: list[dict] = []

    async def structured(self, messages, schema, **kw):
        self.calls.append({"messages": messages, "schema": schema, **kw})
        if self.raises:
            raise self.raises
        result = SimpleNamespace(cost_usd=0.01, usage=USAGE, calls=1)
        raw = self.values.pop(0) if self.values else self.value
        value = schema.model_validate(raw) if raw is not None else None
        return SimpleNamespace(value=value, result=result, error=self.error, mode="json_schema_strict", negotiation=[])


def catalogue(**kw):
    return Catalogue(tools={"python"}, models={"small", "large", "executor", "cheap", "strong"}, **kw)


def guide(model, k=3, **kw):
    return asyncio.run(propose_strategies(model, [], k=k, alias="large", catalogue=catalogue(**kw)))


def test_guide_keeps_valid_candidates_and_explains_invalid_ones():
    bad = {**VALID, "steps": [{**VALID["steps"][0], "model": "gpt-99"}, VALID["steps"][1]]}
    outcome = guide(Scripted({"candidates": [{"rationale": "ok", "strategy": VALID},
                                             {"rationale": "bad", "strategy": bad}]}))
    assert [c.strategy is not None for c in outcome.candidates] == [True, False]
    assert "unknown model alias 'gpt-99'" in str(outcome.candidates[1].issues[0])
    assert outcome.cost_usd == 0.01 and outcome.tokens_in == 100


def test_the_endpoint_is_asked_to_decode_under_the_real_strategy_schema():
    model = Scripted({"candidates": [{"rationale": "ok", "strategy": VALID}]})
    guide(model)
    assert model.calls[0]["wire"] is GuideReplySchema
    steps = GuideReplySchema.model_json_schema(by_alias=True)["$defs"]
    assert {"LLMStep", "LoopStep", "VoteStep", "Budget"} <= set(steps)
    assert steps["LLMStep"]["properties"]["temperature"]["maximum"] == 2.0 and "op" in steps["LLMStep"]["required"]


def test_a_compact_candidate_reuses_a_shipped_strategy_with_its_overrides():
    outcome = guide(Scripted({"candidates": [{"rationale": "cheap", "use": "self_consistency",
                                              "set": {"n": 3, "temperature": 0.9}}]}),
                    shipped=shipped_strategies())
    [candidate] = outcome.valid
    llm = [s for s in candidate.strategy.iter_steps() if s.op == "llm"][0]
    assert (llm.n, llm.temperature) == (3, 0.9) and candidate.origin == "guide-compact"
    assert candidate.parent_hash == shipped_strategies()["self_consistency"].hash


def test_a_compact_candidate_without_overrides_is_the_library_entry_itself():
    entry = Strategy.model_validate(VALID)
    [candidate] = guide(Scripted({"candidates": [{"rationale": "proven", "use": "entry:7"}]}),
                        library={7: entry}).valid
    assert candidate.from_library == 7 and candidate.strategy.hash == entry.hash and candidate.parent_hash is None


CHEAPER = {**VALID, "name": "cot~cheaper", "steps": [{**VALID["steps"][0], "model": "cheap"}, VALID["steps"][1]]}


def test_a_whole_strategy_that_names_what_it_was_written_from_records_it_as_its_parent():
    entry = Strategy.model_validate(VALID)
    variant = {**CHEAPER, "name": "cot-on-the-cheap"}
    [candidate] = guide(Scripted({"candidates": [{"rationale": "cheaper", "use": "entry:7", "strategy": variant}]}),
                        library={7: entry}).valid
    assert candidate.parent_hash == entry.hash and candidate.from_library is None and candidate.origin == "guide"


def test_a_whole_strategy_named_as_a_variant_of_a_retrieved_one_records_it_as_its_parent():
    entry = Strategy.model_validate(VALID)
    [candidate] = guide(Scripted({"candidates": [{"rationale": "cheaper", "strategy": CHEAPER}]}),
                        library={7: entry}).valid
    assert candidate.parent_hash == entry.hash


def test_a_new_idea_has_no_parent():
    [candidate] = guide(Scripted({"candidates": [{"rationale": "new", "strategy": {**CHEAPER, "name": "fresh~x"}}]}),
                        library={7: Strategy.model_validate(VALID)}).valid
    assert candidate.parent_hash is None


def test_a_compact_candidate_that_names_nothing_known_is_refused_with_the_known_names():
    [candidate] = guide(Scripted(values=[{"candidates": [{"rationale": "?", "use": "entry:99"}]}] * 2),
                        library={7: Strategy.model_validate(VALID)}).candidates
    assert candidate.strategy is None and "entry:7" in str(candidate.issues[0])


def test_an_override_with_nothing_to_apply_to_is_an_issue():
    [candidate] = guide(Scripted(values=[{"candidates": [{"use": "chain_of_thought", "set": {"max_iters": 3}}]}] * 2),
                        shipped=shipped_strategies()).candidates
    assert candidate.strategy is None and "max_iters" in str(candidate.issues[0])


def test_no_valid_candidate_earns_one_repair_turn_that_shows_the_issues():
    bad = {**VALID, "steps": [{**VALID["steps"][0], "model": "gpt-99"}, VALID["steps"][1]]}
    model = Scripted(values=[{"candidates": [{"rationale": "bad", "strategy": bad}]},
                             {"candidates": [{"rationale": "fixed", "strategy": VALID}]}])
    outcome = guide(model)
    assert [c.rationale for c in outcome.valid] == ["fixed"] and outcome.repaired and outcome.error is None
    assert "gpt-99" in model.calls[1]["messages"][-1]["content"] and len(model.calls) == 2


def test_a_guide_that_stays_invalid_after_the_repair_turn_says_so():
    bad = {**VALID, "steps": [{**VALID["steps"][0], "model": "gpt-99"}, VALID["steps"][1]]}
    outcome = guide(Scripted({"candidates": [{"rationale": "bad", "strategy": bad}]}))
    assert outcome.valid == [] and "after a repair turn" in outcome.error


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

