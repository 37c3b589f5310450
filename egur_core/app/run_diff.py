"""Two runs problem by problem: which one got right what the other got wrong, with both answers and
strategies. Problems are matched by their benchmark id (the same stream per seed in a comparison),
falling back to their position when a run did not record ids.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from egur_core.memory.store import MemoryStore

Which = Literal["differ", "only_a", "only_b", "both_right", "both_wrong", "all"]
WHICH = {"differ": "one right, one wrong", "only_a": "A right, B wrong", "only_b": "B right, A wrong",
         "both_right": "both right", "both_wrong": "both wrong", "all": "all shared problems"}
_KEY = "coalesce(nullif({t}.problem_id, ''), 'idx-' || {t}.idx::VARCHAR)"
_CONDITION = {"differ": "a_right <> b_right", "only_a": "a_right AND NOT b_right",
              "only_b": "b_right AND NOT a_right", "both_right": "a_right AND b_right",
              "both_wrong": "NOT a_right AND NOT b_right", "all": "true"}


def _pairs(limit: int | None) -> str:
    return f"""
        WITH pairs AS (
            SELECT a.idx + 1 AS number, b.idx + 1 AS b_number, a.problem_id, left(a.text, 200) AS problem,
                   a.answer AS a_answer, coalesce(a.correct, false) AS a_right, sa.name AS a_strategy,
                   b.answer AS b_answer, coalesce(b.correct, false) AS b_right, sb.name AS b_strategy,
                   coalesce(a.gold, b.gold) AS gold
            FROM problems a JOIN problems b ON {_KEY.format(t='a')} = {_KEY.format(t='b')}
            LEFT JOIN strategies sa ON sa.hash = a.chosen_strategy_hash
            LEFT JOIN strategies sb ON sb.hash = b.chosen_strategy_hash
            WHERE a.run_id = ? AND b.run_id = ? AND a.finished_at IS NOT NULL AND b.finished_at IS NOT NULL)
        SELECT * FROM pairs WHERE {{condition}} ORDER BY number {f'LIMIT {int(limit)}' if limit else ''}"""


def problem_diff(store: MemoryStore, run_a: str, run_b: str, which: Which = "differ",
                 limit: int | None = 500) -> pd.DataFrame:
    """Shared finished problems of runs A and B that fall in ``which``, in A's order (numbers from 1)."""
    sql = _pairs(limit).replace("{condition}", _CONDITION[which])
    return store.query_df(sql, [run_a, run_b])


def diff_counts(store: MemoryStore, run_a: str, run_b: str) -> dict[str, int]:
    """How many shared problems fall in each group (``shared`` is all of them)."""
    row = store.query_one(_pairs(None).replace("SELECT * FROM pairs WHERE {condition} ORDER BY number ", """
        SELECT count(*) AS shared, count(*) FILTER (WHERE a_right AND NOT b_right) AS only_a,
               count(*) FILTER (WHERE b_right AND NOT a_right) AS only_b,
               count(*) FILTER (WHERE a_right AND b_right) AS both_right,
               count(*) FILTER (WHERE NOT a_right AND NOT b_right) AS both_wrong FROM pairs"""), [run_a, run_b])
    return {k: int(v or 0) for k, v in (row or {}).items()}
