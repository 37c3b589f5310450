"""``egur strategy validate|graph|run``: work with one strategy file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from egur_core.app.services import build_client, build_tools, describe_models, resolve_settings
from egur_core.cli.common import add_model_options, print_table
from egur_core.runtime.engine import Runtime
from egur_core.strategy.graph import to_dot, to_json_graph
from egur_core.strategy.validation import validate_strategy


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("strategy", help="validate, draw or run one strategy file")
    sub = parser.add_subparsers(dest="strategy_command", required=True)
    validate = sub.add_parser("validate", help="check a strategy; exit 0 when valid")
    validate.add_argument("file")
    validate.set_defaults(handler=cmd_validate)
    graph = sub.add_parser("graph", help="print the strategy as Graphviz DOT or node-link JSON")
    graph.add_argument("file")
    graph.add_argument("--format", choices=("dot", "json"), default="dot")
    graph.set_defaults(handler=cmd_graph)
    run = sub.add_parser("run", help="execute a strategy on one problem")
    run.add_argument("file")
    run.add_argument("--problem", required=True, help="the problem text (or @FILE to read it from a file)")
    add_model_options(run)
    run.set_defaults(handler=cmd_run)


def _load(path: str, known_tools=None, known_models=None):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None, None
    return validate_strategy(text, known_tools, known_models)


def cmd_validate(args: argparse.Namespace) -> int:
    settings = resolve_settings()
    strategy, issues = _load(args.file, build_tools().names(), settings.known_aliases())
    if strategy is None and issues is None:
        return 2
    if issues:
        print(f"{args.file}: {len(issues)} problem(s)", file=sys.stderr)
        for issue in issues:
            print(f"  {issue.path}: {issue.message}", file=sys.stderr)
        return 1
    print(f"{args.file}: valid ({strategy.name}, {len(strategy.iter_steps())} steps, hash {strategy.hash})")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    strategy, issues = _load(args.file)
    if strategy is None or issues:
        for issue in issues or []:
            print(f"  {issue.path}: {issue.message}", file=sys.stderr)
        return 1 if issues else 2
    print(to_dot(strategy) if args.format == "dot" else json.dumps(to_json_graph(strategy), indent=2))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = resolve_settings(args.model, args.base_url, args.config, sim_seed=args.seed)
    tools = build_tools()
    strategy, issues = _load(args.file, tools.names(), settings.known_aliases())
    if strategy is None or issues:
        for issue in issues or []:
            print(f"  {issue.path}: {issue.message}", file=sys.stderr)
        return 1 if issues else 2
    problem = Path(args.problem[1:]).read_text() if args.problem.startswith("@") else args.problem
    print(describe_models(settings), file=sys.stderr)
    result = asyncio.run(_execute(settings, tools, strategy, problem))
    rows = [[t.step_id + (f"#{t.iteration}" if t.iteration else ""), t.op, t.calls, t.tokens_in, t.tokens_out,
             f"{t.cost_usd:.5f}", f"{t.latency_s:.2f}", "ok" if t.ok else f"FAILED: {t.error}"] for t in result.trace]
    print_table(["step", "op", "calls", "tok in", "tok out", "cost $", "sec", "status"], rows)
    for t in result.trace:
        for call in t.tool_calls:
            outcome = (call.output or "").replace("\n", " ")[:60] if call.ok else f"FAILED: {call.error}"
            print(f"  {t.step_id} turn {call.turn}: {call.tool}({call.input[:40]!r}) -> {outcome}")
    print(f"\ntotal: {result.calls} calls, {result.tokens_in + result.tokens_out} tokens, ${result.cost_usd:.5f}, "
          f"{result.latency_s:.2f} s")
    if not result.ok:
        print(f"failed at step '{result.failed_step}': {result.error}", file=sys.stderr)
        return 1
    print(f"answer: {result.answer}")
    return 0


async def _execute(settings, tools, strategy, problem):
    client = build_client(settings)
    try:
        return await Runtime(client, tools, concurrency=settings.concurrency).execute(strategy, problem)
    finally:
        await client.aclose()
