"""Strategies as graphs: a networkx DiGraph for analysis and Graphviz DOT for drawing.

Both come from one walk over the program (:func:`control_flow`), so the drawing and the analysis
never disagree. Edges are control flow: ``next`` (fall through), ``yes``/``no`` (branch),
``loop`` (back edge of a loop), plus ``data`` edges into an ensemble (a vote, select or gather over
several variables) from the steps that wrote them. An execution trace can be overlaid on the DOT:
steps that ran are filled green (red if they failed), with their call count, dollars and seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx

from egur_core.strategy.dataflow import aggregated_sources, step_writes
from egur_core.strategy.model import (
    AgentStep,
    AnswerStep,
    BranchStep,
    ExtractStep,
    GatherStep,
    LLMStep,
    LoopStep,
    SelectStep,
    Step,
    Strategy,
    ToolStep,
    VerifyStep,
    VoteStep,
)


class TracedStep(Protocol):
    """One executed step as the overlay reads it (the runtime's ``StepTrace`` is one)."""

    step_id: str
    cost_usd: float
    latency_s: float
    ok: bool
    error: str | None


SHAPES = {
    "llm": "box",
    "tool": "component",
    "agent": "box3d",
    "vote": "invtrapezium",
    "select": "invtrapezium",
    "verify": "diamond",
    "gather": "invhouse",
    "extract": "cds",
    "branch": "diamond",
    "answer": "doubleoctagon",
}


@dataclass
class ControlFlow:
    nodes: list[Step] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (source, target, kind)
    loops: list[tuple[LoopStep, list[str]]] = field(default_factory=list)  # loop and its body node ids


def control_flow(strategy: Strategy) -> ControlFlow:
    flow = ControlFlow()
    _walk_block(strategy.steps, flow, exit_to=None)
    control = {(a, b) for a, b, _ in flow.edges}
    flow.edges += [e for e in data_edges(strategy) if e[:2] not in control]  # a next edge already shows it
    return flow


def data_edges(strategy: Strategy) -> list[tuple[str, str, str]]:
    """``(writer, ensemble step, "data")`` for each source of a vote/select/gather over several variables."""
    writer: dict[str, str] = {}
    found = []
    for step in strategy.iter_steps():
        names = aggregated_sources(step)
        if len(names) > 1:
            found += [(writer[n], step.id, "data") for n in dict.fromkeys(names) if n in writer]
        writer.update({name: step.id for name in step_writes(step)})
    return found


def _entry(step: Step) -> str:
    return _entry(step.body[0]) if isinstance(step, LoopStep) else step.id


def _walk_block(steps: list[Step], flow: ControlFlow, exit_to: str | None) -> None:
    """Add the block's nodes and edges; ``exit_to`` is where control goes after the block."""
    for index, step in enumerate(steps):
        following = _entry(steps[index + 1]) if index + 1 < len(steps) else exit_to
        if isinstance(step, LoopStep):
            body_ids = [s.id for s in step.body] + [s.id for s in _nested(step.body)]
            flow.loops.append((step, body_ids))
            _walk_block(step.body, flow, exit_to=following)
            last = _last_node(step.body)
            flow.edges.append((last, _entry(step.body[0]), "loop"))
            continue
        flow.nodes.append(step)
        if isinstance(step, AnswerStep):
            continue
        if isinstance(step, BranchStep):
            flow.edges.append((step.id, _entry(_find(steps, step.then)), "yes"))
            no_target = _entry(_find(steps, step.else_)) if step.else_ else following
            if no_target:
                flow.edges.append((step.id, no_target, "no"))
        elif following:
            flow.edges.append((step.id, following, "next"))


def _nested(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        if isinstance(s, LoopStep):
            out.extend(s.body)
            out.extend(_nested(s.body))
    return out


def _last_node(steps: list[Step]) -> str:
    last = steps[-1]
    return _last_node(last.body) if isinstance(last, LoopStep) else last.id


def _find(steps: list[Step], step_id: str) -> Step:
    return next(s for s in steps if s.id == step_id)


def to_networkx(strategy: Strategy) -> nx.DiGraph:
    flow = control_flow(strategy)
    graph = nx.DiGraph(name=strategy.name, paradigm=strategy.paradigm, hash=strategy.hash,
                       max_cost_usd=strategy.budget.max_cost_usd)
    for step in flow.nodes:
        graph.add_node(step.id, op=step.op, label=step_label(step), **_node_attrs(step))
    for source, target, kind in flow.edges:
        graph.add_edge(source, target, kind=kind)
    for loop, body in flow.loops:
        for node in body:
            if node in graph:
                graph.nodes[node].setdefault("loops", []).append(loop.id)
    return graph


def to_json_graph(strategy: Strategy) -> dict:
    """Node-link JSON (networkx's own format) for ``egur strategy graph --format json``."""
    return nx.node_link_data(to_networkx(strategy), edges="edges")


def _node_attrs(step: Step) -> dict:
    attrs: dict = {}
    for name in ("model", "tool", "temperature", "n", "max_tokens", "max_steps", "out", "flag", "seed",
                 "reasoning_effort", "timeout_s", "memory_mb", "path"):
        value = getattr(step, name, None)
        if value not in (None, ""):
            attrs[name] = value
    if isinstance(step, AgentStep):
        attrs["tools"] = ",".join(step.tools)
    if aggregated_sources(step):
        attrs["sources"] = ",".join(aggregated_sources(step))
    return attrs


def step_label(step: Step) -> str:
    """Two or three short lines: id and kind, the key parameters, the variable written."""
    match step:
        case LLMStep():
            detail = f"{step.model} · T={step.temperature:g}" + (f" · n={step.n}" if step.n > 1 else "") + _knobs(step)
        case AgentStep():
            detail = (f"{step.model} · tools: {', '.join(step.tools) or 'none'} · ≤{step.max_steps} turns"
                      + _knobs(step) + _limits(step))
        case ToolStep():
            detail = f"tool: {step.tool}" + _limits(step)
        case VerifyStep():
            detail = f"{'critic ' + step.model if step.method == 'llm' else 'tool: ' + step.tool} → {step.flag}"
        case VoteStep():
            detail = f"over {', '.join(aggregated_sources(step))}"
        case SelectStep():
            detail = f"judge {step.model} over {', '.join(aggregated_sources(step))}"
        case GatherStep():
            detail = f"gather {', '.join(aggregated_sources(step))}"
        case ExtractStep():
            detail = f"{step.from_} → field {step.path}"
        case BranchStep():
            detail = f"if {step.if_}"
        case AnswerStep():
            detail = f"return {step.from_}"
        case _:
            detail = ""
    out = getattr(step, "out", None)
    return "\n".join(part for part in (f"{step.id} [{step.op}]", detail, f"→ {out}" if out else "") if part)


def _knobs(step: LLMStep | AgentStep) -> str:
    parts = [f"seed={step.seed}" if step.seed is not None else "",
             f"effort={step.reasoning_effort}" if step.reasoning_effort else "", "stop" if step.stop else ""]
    return "".join(f" · {p}" for p in parts if p)


def _limits(step: ToolStep | AgentStep) -> str:
    parts = [f"≤{step.timeout_s:g}s" if step.timeout_s else "", f"{step.memory_mb} MB" if step.memory_mb else ""]
    return "".join(f" · {p}" for p in parts if p)


def overlay_from_trace(trace: Sequence[TracedStep]) -> dict[str, dict]:
    """Per step: how often it ran, total cost and seconds, whether any run failed."""
    agg: dict[str, dict] = defaultdict(lambda: {"runs": 0, "cost": 0.0, "seconds": 0.0, "failed": False, "error": ""})
    for t in trace:
        a = agg[t.step_id]
        a["runs"] += 1
        a["cost"] += t.cost_usd
        a["seconds"] += t.latency_s
        if not t.ok:
            a["failed"], a["error"] = True, t.error or "failed"
    return dict(agg)


def to_dot(strategy: Strategy, trace: Sequence[TracedStep] | None = None, rankdir: str = "TB",
           highlight: dict[str, str] | None = None) -> str:
    """Graphviz DOT, top to bottom by default (a program reads downwards, and a tall graph keeps its
    text at full size in a narrow column, where a wide one was scaled down to 6-px text); loops as
    clusters with a dashed back edge. ``highlight`` fills steps by id with a colour (diffs)."""
    flow = control_flow(strategy)
    overlay = overlay_from_trace(trace) if trace is not None else None
    in_loop = {node for _, body in flow.loops for node in body}
    title = strategy.paradigm + (f" · ≤${strategy.budget.max_cost_usd:g}" if strategy.budget.max_cost_usd else "")
    lines = [
        f"digraph {_quote(strategy.name)} {{",
        f"  rankdir={rankdir}; bgcolor=transparent; nodesep=0.35; ranksep=0.35; label={_quote(title)}; labelloc=t;"
        " fontname=Helvetica; fontsize=11;",
        '  node [fontname="Helvetica", fontsize=12, style="rounded,filled", fillcolor="#eef2ff", color="#6366f1"];',
        '  edge [fontname="Helvetica", fontsize=11, color="#64748b"];',
        '  start [shape=circle, label="problem", fillcolor="#e2e8f0", color="#94a3b8", width=0.5, fontsize=10];',
    ]
    lines += [_dot_node(step, overlay, "  ", highlight) for step in flow.nodes if step.id not in in_loop]
    for loop, body in flow.loops:
        label = f"loop {loop.id}: ≤{loop.max_iters}×" + (f" until {loop.until}" if loop.until else "")
        if overlay is not None:
            rounds = max((overlay.get(b, {}).get("runs", 0) for b in body), default=0)
            label += f" · ran {rounds}×"
        lines.append(f"  subgraph cluster_{_ident(loop.id)} {{")
        lines.append(f'    label={_quote(label)}; style="dashed,rounded"; color="#a5b4fc"; fontsize=10;')
        lines += [_dot_node(step, overlay, "    ", highlight) for step in flow.nodes if step.id in body]
        lines.append("  }")
    if flow.nodes:
        lines.append(f"  start -> {_quote(_entry(strategy.steps[0]))};")
    for source, target, kind in flow.edges:
        style = _edge_style(kind, source, target, overlay)
        lines.append(f"  {_quote(source)} -> {_quote(target)}{' ' + style if style else ''};")
    lines.append("}")
    return "\n".join(lines)


def _dot_node(step: Step, overlay: dict[str, dict] | None, indent: str,
              highlight: dict[str, str] | None = None) -> str:
    label = step_label(step)
    attrs = [f"shape={SHAPES.get(step.op, 'box')}"]
    if highlight and step.id in highlight:
        attrs.append(f'fillcolor="{highlight[step.id]}"')
    if overlay is not None:
        seen = overlay.get(step.id)
        if seen is None:
            attrs += ['fillcolor="#f1f5f9"', 'color="#cbd5e1"', 'fontcolor="#94a3b8"', 'style="rounded,filled,dashed"']
        else:
            runs = f"×{seen['runs']} · " if seen["runs"] > 1 else ""
            label += f"\n{runs}${seen['cost']:.4f} · {seen['seconds']:.2f}s"
            if seen["failed"]:
                label += f"\n✗ {seen['error'][:60]}"
                attrs += ['fillcolor="#fee2e2"', 'color="#dc2626"', "penwidth=2"]
            else:
                attrs += ['fillcolor="#dcfce7"', 'color="#16a34a"']
    attrs.insert(0, f"label={_quote(label)}")
    return f"{indent}{_quote(step.id)} [{', '.join(attrs)}];"


def _edge_style(kind: str, source: str, target: str, overlay: dict[str, dict] | None) -> str:
    attrs = {
        "next": [],
        "yes": ['label="yes"'],
        "no": ['label="no"'],
        "loop": ['label="retry"', "style=dashed", "constraint=false", 'color="#6366f1"'],
        "data": ["style=dotted", "arrowhead=empty", 'color="#a855f7"'],
    }[kind]
    if overlay is not None and source in overlay and target in overlay:
        attrs = attrs + ['color="#16a34a"', "penwidth=1.6"]
    return f"[{', '.join(attrs)}]" if attrs else ""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _ident(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)
