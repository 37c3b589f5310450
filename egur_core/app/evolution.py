"""How a run's strategies evolved: the tree of versions as they were derived (parent -> child), each
with its uses, accuracy and mean cost in the run, and which strategy answered each problem (what the
library converged on, and when).

Built on ``strategies.parent_hash``: versions a run executed, plus their ancestors (drawn as such even
when the run never ran them), so a Guide variant, a person's edit or a Consolidator update shows
under what it came from as soon as it records its parent. Statistics are per version, from this
run's executions only.
"""

from __future__ import annotations

import pandas as pd

from egur_core.memory.store import MemoryStore

MAX_NODES = 40
"""The tree shows the most used versions (and their ancestors); a run can try hundreds."""
ROW = 5
"""Versions with no parent or child in view are laid out this many to a row, not in one wide rank."""


def run_strategies(store: MemoryStore, run_id: str) -> pd.DataFrame:
    """One row per version the run executed, with its ancestors (``in_run`` false): uses (executions),
    times chosen, accuracy and mean cost over its executions, first and last problem (1-based)."""
    return store.query_df("""
        WITH RECURSIVE ran AS (
            SELECT e.strategy_hash AS hash, count(*) AS uses, count(*) FILTER (WHERE e.chosen) AS chosen,
                   avg(e.correct::INT) AS accuracy, avg(e.cost_usd) AS mean_cost, min(e.idx) + 1 AS first_problem,
                   max(e.idx) FILTER (WHERE e.chosen) + 1 AS last_chosen,
                   count(*) FILTER (WHERE e.exploited) AS exploited
            FROM executions e WHERE e.run_id = ? AND e.strategy_hash IS NOT NULL AND NOT coalesce(e.stale, false)
            GROUP BY e.strategy_hash),
        up(hash, depth) AS (
            SELECT s.parent_hash, 1 FROM strategies s JOIN ran USING (hash) WHERE s.parent_hash IS NOT NULL
            UNION SELECT s.parent_hash, up.depth + 1 FROM strategies s JOIN up ON s.hash = up.hash
            WHERE s.parent_hash IS NOT NULL AND up.depth < 50),
        nodes AS (SELECT hash FROM ran UNION SELECT hash FROM up)
        SELECT s.hash, s.name, s.parent_hash, s.created_by, s.created_at, ran.hash IS NOT NULL AS in_run,
               coalesce(ran.uses, 0) AS uses, coalesce(ran.chosen, 0) AS chosen, ran.accuracy, ran.mean_cost,
               ran.first_problem, ran.last_chosen, coalesce(ran.exploited, 0) AS exploited,
               (SELECT count(*) FROM library l WHERE l.strategy_hash = s.hash) AS library_entries
        FROM nodes JOIN strategies s USING (hash) LEFT JOIN ran USING (hash)
        ORDER BY coalesce(ran.first_problem, 0), s.created_at, s.hash""", [run_id])


def chosen_timeline(store: MemoryStore, run_id: str) -> pd.DataFrame:
    """Which version answered each problem (1-based), right or wrong, exploited or explored."""
    return store.query_df("""
        SELECT p.idx + 1 AS problem, s.name, p.chosen_strategy_hash AS hash, coalesce(p.correct, false) AS correct,
               p.exploited, p.cost_usd
        FROM problems p LEFT JOIN strategies s ON s.hash = p.chosen_strategy_hash
        WHERE p.run_id = ? AND p.finished_at IS NOT NULL ORDER BY p.idx""", [run_id])


def shown_versions(frame: pd.DataFrame, limit: int = MAX_NODES) -> pd.DataFrame:
    """The most used versions of the run and every ancestor of them (so no edge dangles)."""
    ran = frame[frame["in_run"]].sort_values(["uses", "chosen"], ascending=False).head(limit)
    keep, parents = set(ran["hash"]), dict(zip(frame["hash"], frame["parent_hash"]))
    for h in list(keep):
        while parents.get(h) and parents[h] not in keep and parents[h] in parents:
            keep.add(parents[h])
            h = parents[h]
    return frame[frame["hash"].isin(keep)]


def _colour(accuracy: float | None) -> str:
    if accuracy is None or accuracy != accuracy:
        return "#f1f5f9"
    return "#dcfce7" if accuracy >= 0.75 else "#fef9c3" if accuracy >= 0.4 else "#fee2e2"


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def evolution_dot(frame: pd.DataFrame) -> str:
    """The version tree, top to bottom: fill by accuracy in the run (green >= 75%, yellow >= 40%, red below,
    grey for ancestors not run here), a thick border for versions in the library now."""
    known = set(frame["hash"])
    lines = ["digraph evolution {", "  rankdir=TB; bgcolor=transparent; nodesep=0.25; ranksep=0.45;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#64748b"];',
             '  edge [color="#64748b", arrowsize=0.7];']
    linked = {h for h, p in zip(frame["hash"], frame["parent_hash"]) if p in known} | \
        {p for p in frame["parent_hash"] if p in known}
    for r in frame.to_dict("records"):
        stats = (f"{r['uses']} uses · {r['accuracy']:.0%} right · ${r['mean_cost']:.4f}" if r["in_run"]
                 else "ancestor, not run here")
        label = f"{r['name'] or 'unnamed'}\n{r['hash'][:8]} · by {r['created_by'] or '?'}\n{stats}"
        border = ', penwidth=2.5, color="#1d4ed8"' if r["library_entries"] else ""
        lines.append(f"  {_quote(r['hash'])} [label={_quote(label)}, fillcolor=\"{_colour(r['accuracy'])}\"{border}];")
    for r in frame.to_dict("records"):
        if r["parent_hash"] in known:
            lines.append(f"  {_quote(r['parent_hash'])} -> {_quote(r['hash'])};")
    alone = [h for h in frame["hash"] if h not in linked]
    for start in range(0, len(alone), ROW):  # a grid, not one rank as wide as the run's strategies
        row = alone[start:start + ROW]
        lines.append("  { rank=same; " + " ".join(_quote(h) for h in row) + " }")
        if start + ROW < len(alone):
            lines.append(f"  {_quote(row[0])} -> {_quote(alone[start + ROW])} [style=invis];")
    lines.append("}")
    return "\n".join(lines)
