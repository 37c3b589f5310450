"""Helpers behind the Strategies page: the library table, step tables, JSON diffs, lineage DOT.

Everything is pure (DataFrames and dicts in, DataFrames, strings and dicts out) except
:func:`executions_of`, the one query the page needs that the store does not offer yet.

>>> print(lineage_dot([{"hash": "a1", "name": "cot", "parent_hash": None, "created_by": "guide"},
...                    {"hash": "b2", "name": "cot", "parent_hash": "a1", "created_by": "person"}], "b2"))
... # doctest: +ELLIPSIS
digraph lineage {
...
  "a1" -> "b2";
}
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from egur_core.runtime.trace import StepTrace
from egur_core.strategy.graph import step_label
from egur_core.strategy.model import Strategy

SORTS = {
    "most used": ("uses", False),
    "newest": ("created_at", False),
    "most run": ("executions", False),
    "best accuracy": ("accuracy", False),
    "best library success rate": ("success_rate", False),
    "cheapest": ("mean_cost", True),
    "most retrieved": ("retrievals", False),
}
LIBRARY_COLUMNS = ["name", "paradigm", "in_library", "uses", "success_rate", "retrievals", "executions", "accuracy",
                   "mean_cost", "baseline_runs", "hash", "created_by", "parent_hash", "created_at", "summary"]


def library_table(
    strategies: pd.DataFrame, entries: pd.DataFrame, search: str = "", paradigms: Sequence[str] = (),
    only_library: bool = False, sort: str = "most used",
) -> pd.DataFrame:
    """Every strategy version with run stats (executions, accuracy, mean cost) and library stats
    (entries using it, their uses, success rate and retrievals), filtered and sorted."""
    if strategies.empty:
        return pd.DataFrame(columns=LIBRARY_COLUMNS)
    df = strategies.copy()
    if not entries.empty:
        lib = entries.groupby("strategy_hash").agg(in_library=("entry_id", "count"), uses=("uses", "sum"),
                                                   successes=("successes", "sum"),
                                                   retrievals=("retrievals", "sum")).reset_index()
        df = df.merge(lib, how="left", left_on="hash", right_on="strategy_hash")
    else:
        df = df.assign(in_library=0, uses=0, successes=0, retrievals=0)
    for column in ("in_library", "uses", "successes", "retrievals"):
        df[column] = df[column].fillna(0).astype(int)
    df["success_rate"] = [s / u if u else None for s, u in zip(df["successes"], df["uses"])]
    df["success_rate"] = df["success_rate"].astype(float)
    if search:
        needle = search.lower()
        df = df[[needle in f"{n} {s} {h}".lower() for n, s, h in zip(df["name"], df["summary"], df["hash"])]]
    if paradigms:
        df = df[df["paradigm"].isin(list(paradigms))]
    if only_library:
        df = df[df["in_library"] > 0]
    column, ascending = SORTS.get(sort, SORTS["newest"])
    if column != "created_at":  # ties (e.g. never used) newest first
        df = df.sort_values("created_at", ascending=False, kind="stable")
    df = df.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    return df[LIBRARY_COLUMNS].reset_index(drop=True)


def strategy_option(row: Mapping[str, Any]) -> str:
    """``name · hash · 12 runs, 83%``: how a strategy reads in a picker."""
    runs = int(row.get("executions") or 0)
    acc = row.get("accuracy")
    stats = f"{runs} runs" + (f", {acc:.0%} right" if runs and acc is not None and not pd.isna(acc) else "")
    return f"{row.get('name')} · {row.get('hash')} · {stats}"


def plan_table(strategy: Strategy) -> pd.DataFrame:
    """The steps as planned (no execution): id, kind and what each does."""
    return pd.DataFrame([{"step": s.id, "op": s.op, "does": step_label(s).split("\n", 1)[-1].replace("\n", " ")}
                         for s in strategy.iter_steps()], columns=["step", "op", "does"])


def parse_trace(raw: Any) -> list[StepTrace] | None:
    """A stored trace (JSON list or already parsed) as ``StepTrace`` objects; ``None`` if absent."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = json.loads(raw)
    return [StepTrace.model_validate(t) for t in raw]


def step_table(trace: Sequence[StepTrace]) -> pd.DataFrame:
    """One row per step run, in order: what ran, how often (loop round), tokens, $, seconds, errors."""
    rows = [{"step": t.step_id, "op": t.op, "round": t.iteration, "ok": t.ok, "calls": t.calls,
             "tokens": t.tokens_in + t.tokens_out, "cost_usd": t.cost_usd, "latency_s": t.latency_s,
             "error": t.error or "", "output": (t.output or "")[:200]} for t in trace]
    columns = ["step", "op", "round", "ok", "calls", "tokens", "cost_usd", "latency_s", "error", "output"]
    df = pd.DataFrame(rows, columns=columns)
    df["round"] = df["round"].astype("Int64")
    return df


def tool_call_table(trace: Sequence[StepTrace]) -> pd.DataFrame:
    """One row per tool call an agent made: which step and turn asked, the tool, its input and result."""
    rows = [{"step": t.step_id, "turn": c.turn, "tool": c.tool, "ok": c.ok, "seconds": c.seconds,
             "input": c.input[:200], "result": (c.output or c.error or "")[:200]} for t in trace for c in t.tool_calls]
    return pd.DataFrame(rows, columns=["step", "turn", "tool", "ok", "seconds", "input", "result"])


def execution_option(row: Mapping[str, Any]) -> str:
    """``run-… #4 · candidate 1 · ✓ chosen · $0.0012 · 0.8s``."""
    verdict = {True: "✓ right", False: "✗ wrong"}.get(row.get("correct"), "unscored")
    if not row.get("ok", True):
        verdict = "✗ failed"
    extra = " · chosen" if row.get("chosen") else ""
    extra += " · exploited" if row.get("exploited") else ""
    return (f"{row.get('run_id')} #{int(row.get('idx') or 0) + 1} · candidate {int(row.get('candidate') or 0) + 1} · "
            f"{verdict}{extra} · "
            f"${float(row.get('cost_usd') or 0):.4f} · {float(row.get('latency_s') or 0):.2f}s")


def executions_of(store: Any, strategy_hash: str, limit: int = 50) -> list[dict[str, Any]]:
    """The latest executions of one strategy version (trace included), newest first.

    The one query here: ``MemoryStore`` has ``executions_for(run_id, idx)`` but nothing by strategy.
    """
    rows = store.query(
        "SELECT execution_id, run_id, idx, candidate, ok, correct, chosen, exploited, error, calls, cost_usd, "
        "latency_s, trace FROM executions WHERE strategy_hash = ? AND NOT coalesce(stale, false) "
        "ORDER BY created_at DESC, execution_id DESC LIMIT ?", [strategy_hash, int(limit)])
    return rows


# -- comparing two strategies ---------------------------------------------------------------------
def flatten(value: Any, path: str = "$") -> dict[str, Any]:
    """``{"$.steps[0].temperature": 0.7, ...}``: every leaf of a JSON value by its path."""
    if isinstance(value, dict):
        if not value:
            return {path: {}}
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{path}.{key}"))
        return out
    if isinstance(value, list):
        if not value:
            return {path: []}
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
        return out
    return {path: value}


def json_diff(left: Mapping[str, Any], right: Mapping[str, Any]) -> pd.DataFrame:
    """Leaf-level differences: ``path | left | right | change`` (changed, only left, only right)."""
    a, b = flatten(dict(left)), flatten(dict(right))
    rows = []
    for path in sorted(set(a) | set(b), key=_path_key):
        if path in a and path in b:
            if a[path] != b[path]:
                rows.append({"path": path, "left": _show(a[path]), "right": _show(b[path]), "change": "changed"})
        elif path in a:
            rows.append({"path": path, "left": _show(a[path]), "right": "", "change": "only left"})
        else:
            rows.append({"path": path, "left": "", "right": _show(b[path]), "change": "only right"})
    return pd.DataFrame(rows, columns=["path", "left", "right", "change"])


def _path_key(path: str) -> list:
    """Sort ``steps[10]`` after ``steps[9]``."""
    parts: list = []
    for chunk in path.replace("[", ".[").split("."):
        if chunk.startswith("[") and chunk.endswith("]") and chunk[1:-1].isdigit():
            parts.append((0, int(chunk[1:-1]), ""))
        else:
            parts.append((1, 0, chunk))
    return parts


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def unified_diff(left: Mapping[str, Any], right: Mapping[str, Any], left_name: str = "left",
                 right_name: str = "right") -> str:
    """A unified text diff of the two pretty-printed JSON documents (empty if equal)."""
    a = json.dumps(left, indent=2, sort_keys=True).splitlines()
    b = json.dumps(right, indent=2, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(a, b, left_name, right_name, lineterm=""))


# -- lineage ----------------------------------------------------------------------------------------
def lineage_dot(versions: Sequence[Mapping[str, Any]], current: str) -> str:
    """Graphviz DOT of a version tree: one node per version (name, short hash, who made it),
    an edge from each parent to its child, the ``current`` version highlighted."""
    known = {v["hash"] for v in versions}
    lines = ["digraph lineage {", "  rankdir=TB; bgcolor=transparent;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
             'fillcolor="#eef2ff", color="#6366f1"];', '  edge [color="#64748b"];']
    for v in versions:
        label = f"{v.get('name') or 'unnamed'}\n{v['hash'][:10]}\nby {v.get('created_by') or '?'}"
        style = ', fillcolor="#fde68a", color="#d97706", penwidth=2' if v["hash"] == current else ""
        lines.append(f"  {_quote(v['hash'])} [label={_quote(label)}{style}];")
    for v in versions:
        parent = v.get("parent_hash")
        if parent and parent in known:
            lines.append(f"  {_quote(parent)} -> {_quote(v['hash'])};")
    lines.append("}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def pretty(strategy: Strategy | Mapping[str, Any]) -> str:
    """The JSON a person edits: canonical content, indented, stable key order."""
    data = strategy.to_json_dict() if isinstance(strategy, Strategy) else dict(strategy)
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)
