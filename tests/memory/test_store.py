"""Store-level behaviour not covered elsewhere: the transaction API and its in-process caches."""

from __future__ import annotations

import pytest

from egur_core.memory.store import MemoryStore
from tests.memory import store, strategy_dict  # noqa: F401


def test_a_strategy_saved_in_a_rolled_back_transaction_is_saved_again(store: MemoryStore) -> None:  # noqa: F811
    strategy = strategy_dict("rolled-back")
    with pytest.raises(RuntimeError):
        with store.transaction():
            digest = store.save_strategy(strategy)
            raise RuntimeError("abort")
    assert store.save_strategy(strategy) == digest
    assert store.strategy_row(digest)["name"] == "rolled-back"
