from __future__ import annotations

import pytest

from egur_core.memory.ops import AddEntry, AddNote, RateNote, UpdateEntry, UpdateNote
from egur_core.memory.store import MemoryStore
from tests.memory import kstore, store, strategy_dict  # noqa: F401


@pytest.fixture
def library(kstore: MemoryStore) -> MemoryStore:  # noqa: F811
    """Entries 1-3 (sat / count / prime) and notes 1-3 on the same topics."""
    kstore.apply_many([
        AddEntry(signature="sat sat formula", strategy=strategy_dict("solver"), benchmark="sat"),
        AddEntry(signature="count the objects", strategy=strategy_dict("counter"), benchmark="bbeh"),
        AddEntry(signature="prime factors", strategy=strategy_dict("maths"), benchmark="aime"),
        AddNote(text="sat: call the solver"), AddNote(text="count twice"), AddNote(text="prime: sieve"),
    ], actor="consolidator")
    return kstore


def test_entries_come_back_most_similar_first(library: MemoryStore) -> None:
    got = library.retrieve("is this sat formula sat", k_entries=3, min_similarity=-1)
    assert [e.entry_id for e in got.entries][0] == 1
    assert [e.rank for e in got.entries] == [1, 2, 3]
    assert got.entries[0].similarity >= got.entries[1].similarity >= got.entries[2].similarity
    assert got.entries[0].strategy.name == "solver"


def test_k_limits_the_number_returned(library: MemoryStore) -> None:
    got = library.retrieve("count", k_entries=1, k_notes=1)
    assert len(got.entries) == 1 and len(got.notes) == 1


def test_banned_entries_are_never_returned(library: MemoryStore) -> None:
    library.apply(UpdateEntry(entry_id=1, banned=True), actor="person")
    assert 1 not in [e.entry_id for e in library.retrieve("sat", k_entries=10, min_similarity=-1).entries]


def test_pinned_notes_are_always_included(library: MemoryStore) -> None:
    library.apply(UpdateNote(note_id=3, pinned=True), actor="person")
    notes = library.retrieve("sat", k_notes=1, min_similarity=0.9).notes
    assert [n.note_id for n in notes] == [3, 1]
    assert notes[0].pinned


def test_benchmark_filter_keeps_that_benchmark_and_untagged(library: MemoryStore) -> None:
    library.apply(AddEntry(signature="general count advice", strategy=strategy_dict("g")), actor="person")
    got = library.retrieve("count", k_entries=10, benchmark="bbeh", min_similarity=-1)
    assert sorted(e.entry_id for e in got.entries) == [2, 4]


def test_min_similarity_drops_unrelated_entries(library: MemoryStore) -> None:
    got = library.retrieve("prime", k_entries=10, min_similarity=0.5)
    assert [e.entry_id for e in got.entries] == [3]


def test_empty_query_text_does_not_rank_garbage_first(store_with_local_embedding: MemoryStore) -> None:
    got = store_with_local_embedding.retrieve("", k_entries=5, min_similarity=-1)
    assert all(e.similarity == -1 for e in got.entries)


@pytest.fixture
def store_with_local_embedding() -> MemoryStore:
    import duckdb

    s = MemoryStore(duckdb.connect(":memory:"))
    s.apply(AddEntry(signature="anything", strategy=strategy_dict()), actor="person")
    return s


def test_retrieve_does_not_count_until_recorded(library: MemoryStore) -> None:
    got = library.retrieve("sat", k_entries=1, k_notes=1)
    assert library.get_entry(1)["retrievals"] == 0
    library.record_retrievals("run-1", 0, got.entries, got.notes)
    assert library.get_entry(1)["retrievals"] == 1
    assert library.get_note(got.notes[0].note_id)["retrievals"] == 1


def test_provenance_names_creator_and_retrievers(library: MemoryStore) -> None:
    library.create_run(benchmark="sat", run_id="run-1")
    library.start_problem("run-1", 0, "p0", "sat sat")
    library.apply(AddEntry(signature="sat again", strategy=strategy_dict("v")), "consolidator", "run-1", 0)
    got = library.retrieve("sat again", k_entries=1)
    library.record_retrievals("run-1", 1, got.entries, [])
    prov = library.entry_provenance(4)
    assert prov["created_problem"]["idx"] == 0
    assert [(r["run_id"], r["idx"]) for r in prov["retrieved_by"]] == [("run-1", 1)]


def test_an_entry_is_found_by_the_example_problem_it_solved(kstore: MemoryStore) -> None:  # noqa: F811
    kstore.apply(AddEntry(signature="puzzles", example="prime prime prime", strategy=strategy_dict()), "consolidator")
    kstore.apply(AddEntry(signature="other puzzles", strategy=strategy_dict("o")), "consolidator")
    assert kstore.retrieve("prime", k_entries=1).entries[0].entry_id == 1


def test_undo_of_a_delete_restores_the_same_embedding(kstore: MemoryStore) -> None:  # noqa: F811
    kstore.apply(AddEntry(signature="puzzles", example="prime count", strategy=strategy_dict()), "consolidator")
    before = kstore.retrieve("prime", k_entries=1).entries[0].similarity
    kstore.undo(kstore.apply({"op": "delete_entry", "entry_id": 1}, "person"))
    assert kstore.retrieve("prime", k_entries=1).entries[0].similarity == pytest.approx(before)


def test_numpy_ranking_matches_duckdbs_cosine_ranking(store: MemoryStore) -> None:  # noqa: F811
    import numpy as np

    rng = np.random.default_rng(3)
    strategies = [strategy_dict(f"s{i}") for i in range(3)]
    words = "apple sat clause count prime graph sum list digit modulo chair book".split()
    for i in range(60):
        store.apply(AddEntry(signature=" ".join(rng.choice(words, 6)), strategy=strategies[i % 3],
                             benchmark=["sat3", "", "aime2025"][i % 3]), actor="person")
    store.apply(UpdateEntry(entry_id=5, banned=True), actor="person")
    for query in ("sat clause clause", "prime digit sum", "apple"):
        for bench in (None, "sat3"):
            fast = store.retrieve(query, k_entries=10, k_notes=0, benchmark=bench).entries
            reference = store.query(RANKED_IN_DUCKDB.format(dim=store.dim),
                                    {"q": store.embed(query), "bench": bench, "k": 10})
            assert [e.entry_id for e in fast] == [r["entry_id"] for r in reference]
            assert [round(e.similarity, 4) for e in fast] == [round(r["similarity"], 4) for r in reference]


RANKED_IN_DUCKDB = """
    SELECT entry_id, coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1)
           AS similarity
    FROM library WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')
    ORDER BY similarity DESC, entry_id LIMIT $k"""
"""The reference ranking: the same cosine order computed by DuckDB itself."""


def test_the_ranking_sees_every_change_to_the_library(store: MemoryStore) -> None:  # noqa: F811
    store.apply(AddEntry(signature="prime numbers and digits", strategy=strategy_dict()), actor="person")
    assert [e.entry_id for e in store.retrieve("prime digits").entries] == [1]
    op = store.apply(UpdateEntry(entry_id=1, banned=True), actor="person")
    assert store.retrieve("prime digits").entries == []
    store.undo(op)
    assert [e.entry_id for e in store.retrieve("prime digits").entries] == [1]
    store.apply(AddEntry(signature="prime digits", strategy=strategy_dict()), actor="person")
    assert [e.entry_id for e in store.retrieve("prime digits").entries] == [2, 1]
    store.apply(UpdateEntry(entry_id=2, signature="graph colouring"), actor="person")
    assert [e.entry_id for e in store.retrieve("prime digits").entries][0] == 1


RANKED_NOTES_IN_DUCKDB = """
WITH scored AS (
    SELECT note_id, pinned,
           coalesce(nullif(array_cosine_similarity(embedding, $q::FLOAT[{dim}]), 'NaN'::FLOAT), -1) AS similarity
    FROM notes WHERE NOT banned AND ($bench IS NULL OR benchmark = $bench OR benchmark = '')),
top AS (SELECT * FROM scored WHERE NOT pinned AND similarity >= $min ORDER BY similarity DESC, note_id LIMIT $k)
SELECT * FROM top UNION ALL SELECT * FROM scored WHERE pinned
ORDER BY pinned DESC, similarity DESC, note_id"""
"""The reference ranking of notes: the k nearest unpinned ones and every pinned one, computed by DuckDB."""


def test_numpy_ranking_of_notes_matches_duckdbs(store: MemoryStore) -> None:  # noqa: F811
    import numpy as np

    rng = np.random.default_rng(5)
    words = "apple sat clause count prime graph sum list digit modulo chair book".split()
    for i in range(40):
        store.apply(AddNote(text=" ".join(rng.choice(words, 5)), benchmark=["sat3", "", "aime2025"][i % 3]),
                    actor="person")
    for note_id, change in ((3, {"banned": True}), (7, {"pinned": True}), (8, {"pinned": True})):
        store.apply(UpdateNote(note_id=note_id, **change), actor="person")
    for query in ("sat clause clause", "prime digit sum", ""):
        for bench in (None, "sat3"):
            fast = store.retrieve(query, k_entries=0, k_notes=4, benchmark=bench, min_similarity=0.1).notes
            reference = store.query(RANKED_NOTES_IN_DUCKDB.format(dim=store.dim),
                                    {"q": store.embed(query), "bench": bench, "k": 4, "min": 0.1})
            assert [n.note_id for n in fast] == [r["note_id"] for r in reference]
            assert [round(n.similarity, 4) for n in fast] == [round(r["similarity"], 4) for r in reference]


def test_a_retrieved_note_shows_every_change_made_to_it(store: MemoryStore) -> None:  # noqa: F811
    store.apply(AddNote(text="prime numbers: sieve first"), actor="person")
    assert store.retrieve("prime numbers").notes[0].helpful == 0
    store.apply(RateNote(note_id=1, helpful=2, harmful=1), actor="consolidator")
    [note] = store.retrieve("prime numbers").notes
    assert (note.helpful, note.harmful) == (2, 1)
    store.apply(UpdateNote(note_id=1, text="prime numbers: trial division"), actor="person")
    assert store.retrieve("prime numbers").notes[0].text == "prime numbers: trial division"
    store.apply(UpdateNote(note_id=1, pinned=True), actor="person")
    assert store.retrieve("graph colouring", min_similarity=0.9).notes[0].pinned
    store.apply(UpdateNote(note_id=1, banned=True), actor="person")
    assert store.retrieve("prime numbers").notes == []
