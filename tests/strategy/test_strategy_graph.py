"""Strategy graphs: control flow in networkx and DOT agree, and a trace overlays on the DOT."""

import pytest

from egur_core.runtime.trace import StepTrace
from egur_core.strategy.graph import to_dot, to_json_graph, to_networkx
from egur_core.strategy.model import Strategy


@pytest.fixture
def pips(example_strategies) -> Strategy:
    return Strategy.model_validate(example_strategies["code_then_verify.json"])


@pytest.fixture
def escalate(example_strategies) -> Strategy:
    return Strategy.model_validate(example_strategies["verify_then_escalate.json"])


def edges(graph):
    return {(a, b, d["kind"]) for a, b, d in graph.edges(data=True)}


def test_sequential_steps_are_chained(example_strategies):
    graph = to_networkx(Strategy.model_validate(example_strategies["self_consistency.json"]))
    assert edges(graph) == {("sample", "vote", "next"), ("vote", "final", "next")}


def test_loop_body_has_a_back_edge_and_exits_to_the_next_step(pips):
    found = edges(to_networkx(pips))
    assert ("critic", "write_code", "loop") in found
    assert ("critic", "final", "next") in found
    assert ("facts", "write_code", "next") in found


def test_loop_members_are_tagged_with_their_loop(pips):
    graph = to_networkx(pips)
    assert graph.nodes["run"]["loops"] == ["attempt"]
    assert "loops" not in graph.nodes["facts"]


def test_branch_has_yes_and_no_edges(escalate):
    found = edges(to_networkx(escalate))
    assert ("route", "final_draft", "yes") in found and ("route", "escalate", "no") in found
    assert not any(a.startswith("final") for a, _, _ in found)


def test_json_graph_is_node_link_data(escalate):
    data = to_json_graph(escalate)
    assert {n["id"] for n in data["nodes"]} == {s.id for s in escalate.iter_steps()}
    assert len(data["edges"]) == 5


def test_dot_of_a_two_step_strategy_matches_golden():
    s = Strategy.model_validate({"name": "solver", "steps": [
        {"id": "solve", "op": "tool", "tool": "sat_solver", "input": "{problem}", "out": "model"},
        {"id": "final", "op": "answer", "from": "model"}]})
    body = [line.strip() for line in to_dot(s).splitlines()[5:]]
    assert body == [
        '"solve" [label="solve [tool]\\ntool: sat_solver\\n→ model", shape=component];',
        '"final" [label="final [answer]\\nreturn model", shape=doubleoctagon];',
        'start -> "solve";',
        '"solve" -> "final";',
        "}",
    ]


def test_dot_draws_loops_as_clusters(pips):
    dot = to_dot(pips)
    assert "subgraph cluster_attempt" in dot and 'label="retry", style=dashed, constraint=false' in dot


def test_dot_escapes_quotes_in_names():
    s = Strategy.model_validate({"name": 'say "hi"', "steps": [
        {"id": "a", "op": "llm", "prompt": "{problem}", "out": "r"}, {"id": "f", "op": "answer", "from": "r"}]})
    assert to_dot(s).startswith('digraph "say \\"hi\\"" {')


def test_trace_overlay_marks_ran_failed_and_skipped_steps(escalate):
    trace = [
        StepTrace(step_id="draft", op="llm", cost_usd=0.001, latency_s=0.5),
        StepTrace(step_id="check", op="verify", cost_usd=0.0005, latency_s=0.2),
        StepTrace(step_id="route", op="branch"),
        StepTrace(step_id="escalate", op="llm", ok=False, error="rate limited"),
    ]
    lines = {line.split(" [")[0].strip().strip('"'): line for line in to_dot(escalate, trace).splitlines()}
    assert "#dcfce7" in lines["draft"] and "$0.0010" in lines["draft"]
    assert "#fee2e2" in lines["escalate"] and "rate limited" in lines["escalate"]
    assert "dashed" in lines["final_draft"]


def test_overlay_counts_loop_rounds(pips):
    trace = [StepTrace(step_id=s, op="x", iteration=i) for i in (1, 2) for s in ("write_code", "run", "critic")]
    dot = to_dot(pips, trace)
    assert "ran 2×" in dot and "×2 · $" in dot


@pytest.fixture
def ensemble(example_strategies) -> Strategy:
    return Strategy.model_validate(example_strategies["heterogeneous_vote.json"])


def node_line(dot: str, step_id: str) -> str:
    return next(line for line in dot.splitlines() if line.strip().startswith(f'"{step_id}" ['))


def test_an_ensemble_vote_gets_a_data_edge_from_each_method(ensemble):
    found = edges(to_networkx(ensemble))
    assert {("run_code", "vote", "data"), ("calculate", "vote", "data")} <= found
    assert ("think", "vote", "next") in found and ("think", "vote", "data") not in found  # already connected
    assert '"run_code" -> "vote" [style=dotted' in to_dot(ensemble)


def test_an_ensemble_node_names_its_sources_and_the_tool_limits_show(ensemble):
    dot = to_dot(ensemble)
    assert "over program_answer, calculated, reasoning" in node_line(dot, "vote")
    assert "tool: python · ≤20s · 512 MB" in node_line(dot, "run_code")
    assert "seed=7" in node_line(dot, "think") and "stop" in node_line(dot, "formalize")
    assert to_networkx(ensemble).nodes["vote"]["sources"] == "program_answer,calculated,reasoning"


def test_gather_and_extract_are_drawn_with_their_own_shapes():
    s = Strategy.model_validate({"name": "g", "steps": [
        {"id": "facts", "op": "llm", "prompt": "{problem}", "out": "facts"},
        {"id": "pick", "op": "extract", "from": "facts", "path": "result.value", "out": "value"},
        {"id": "all", "op": "gather", "from": ["value", "facts"], "out": "both"},
        {"id": "judge", "op": "select", "from": "both", "model": "large", "out": "r"},
        {"id": "final", "op": "answer", "from": "r"}]})
    dot = to_dot(s)
    assert "shape=cds" in node_line(dot, "pick") and "facts → field result.value" in node_line(dot, "pick")
    assert "shape=invhouse" in node_line(dot, "all") and "gather value, facts" in node_line(dot, "all")
    assert "judge large over both" in node_line(dot, "judge")
    assert ("facts", "all", "data") in edges(to_networkx(s))


def test_the_graph_is_titled_with_the_derived_paradigm_and_the_dollar_budget(example_strategies):
    agent = Strategy.model_validate(example_strategies["native_tool_agent.json"])
    assert 'label="agentic · ≤$0.05"' in to_dot(agent).splitlines()[1]
    assert to_networkx(agent).graph["paradigm"] == "agentic"
    assert "≤30s · 512 MB" in node_line(to_dot(agent), "agent")
