"""What each step reads and writes, which models and tools it uses, and which of its outputs are lists.

Validation (read before write, catalogues, ambiguous answers) and the graph (data edges into an
ensemble) both read a program through these functions, so they never disagree about a step.
"""

from __future__ import annotations

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
    ToolStep,
    VerifyStep,
    VoteStep,
    sources,
)

TEMPLATE_FIELDS = ("system", "prompt", "input")


def step_reads(step: Step) -> list[tuple[str, str]]:
    """``(field, template)`` for each template a step renders."""
    return [(name, value) for name in TEMPLATE_FIELDS if isinstance(value := getattr(step, name, None), str)]


def step_writes(step: Step) -> list[str]:
    match step:
        case VerifyStep():
            return [step.flag] + ([step.feedback] if step.feedback else [])
        case BranchStep() | LoopStep() | AnswerStep():
            return []
        case _:
            return [step.out]


def step_input_vars(step: Step) -> list[tuple[str, str]]:
    """``(field path, variable)`` for each variable a step reads by name (not through a template)."""
    match step:
        case VoteStep() | SelectStep() | GatherStep():
            if isinstance(step.from_, str):
                return [("from", step.from_)]
            return [(f"from[{i}]", name) for i, name in enumerate(step.from_)]
        case AnswerStep() | ExtractStep():
            return [("from", step.from_)]
        case BranchStep():
            return [("if", step.if_)]
        case _:
            return []


def writes_list(step: Step) -> bool:
    """Does the step always write a list (several samples, gathered values)?"""
    return (isinstance(step, LLMStep) and step.n > 1) or isinstance(step, GatherStep)


def step_models(step: Step) -> list[str]:
    if isinstance(step, (LLMStep, AgentStep, SelectStep)):
        return [step.model]
    if isinstance(step, VerifyStep) and step.method == "llm":
        return [step.model]
    return []


def step_tools(step: Step) -> list[str]:
    match step:
        case ToolStep():
            return [step.tool]
        case AgentStep():
            return list(step.tools)
        case VerifyStep() if step.method == "tool":
            return [step.tool]
        case _:
            return []


def aggregated_sources(step: Step) -> list[str]:
    """The variables an ensemble step combines (empty for any other step)."""
    return sources(step) if isinstance(step, (VoteStep, SelectStep, GatherStep)) else []
