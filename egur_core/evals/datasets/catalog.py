"""Every dataset a run can use: the shipped benchmarks and the ones a person added to the memory file.

This is what pickers list and what ``egur run``, ``egur bench``, the Run page and the comparison
resolve a name with. Shipped names come from the data folder (no store needed); stored ones from
the memory file, so listing them takes a store and building their workload takes the memory (to
read rows) and, for a judge-scored dataset, the model client the judge calls.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Literal, Protocol

from pydantic import BaseModel

from egur_core.evals.datasets import stored
from egur_core.evals.datasets.base import LabelGrader, Problem, as_task
from egur_core.evals.datasets.judge import JudgeGrader
from egur_core.evals.datasets.recent import remember
from egur_core.evals.datasets.registry import benchmark_names, get_benchmark, score_prediction
from egur_core.evals.datasets.registry import load_problems as load_shipped
from egur_core.evals.datasets.registry import workload as shipped_workload
from egur_core.evals.datasets.scorers import score
from egur_core.evals.datasets.verifier import SandboxVerifier
from egur_core.memory.store import MemoryStore
from egur_core.reasoner.method import Models
from egur_core.reasoner.task import Workload


class Sessions(Protocol):
    """A memory file (``MemoryFile``) or an open store wrapped for it (``OpenStore``)."""

    def session(self) -> AbstractContextManager[MemoryStore]: ...


class DatasetInfo(BaseModel):
    """One entry of a picker."""

    name: str
    kind: Literal["shipped", "stored"]
    summary: str = ""

    @property
    def label(self) -> str:
        return self.name if self.kind == "shipped" else f"{self.name} (yours: {self.summary})"


def is_shipped(name: str) -> bool:
    try:
        get_benchmark(name)
    except ValueError:
        return False
    return True


def catalog(store: MemoryStore | None = None) -> list[DatasetInfo]:
    """Shipped benchmarks first (in their usual order), then the stored datasets by name."""
    shipped = [DatasetInfo(name=name, kind="shipped") for name in benchmark_names()]
    mine = [DatasetInfo(name=d.name, kind="stored", summary=d.summary())
            for d in (stored.list_datasets(store) if store is not None else [])]
    return shipped + mine


def dataset_names(store: MemoryStore | None = None) -> list[str]:
    return [info.name for info in catalog(store)]


def _stored(store: MemoryStore | None, name: str) -> stored.StoredDataset:
    found = stored.get_dataset(store, name) if store is not None and isinstance(name, str) else None
    if found is None:
        mine = [d.name for d in stored.list_datasets(store)] if store is not None else []
        raise ValueError(f"unknown benchmark {name!r}; valid names: {', '.join(benchmark_names())}"
                         + (f"; yours: {', '.join(mine)}" if mine else "; add your own with `egur dataset add`"))
    return found


def load_problems(name: str, n: int | None = None, seed: int = 0, *, store: MemoryStore | None = None) -> list[Problem]:
    """The first ``n`` problems of a shipped or stored dataset for ``seed``."""
    if is_shipped(name):
        return load_shipped(name, n, seed)
    return stored.load_problems(store, _stored(store, name), n, seed)  # type: ignore[arg-type]


def workload(name: str, n: int | None = None, seed: int = 0, *, memory: Sessions | None = None,
             llm: Models | None = None, problems: list[Problem] | None = None) -> Workload:
    """Tasks without labels, the grader that holds them and the label-free verifier, for any dataset.

    ``memory`` is needed for a stored dataset (its rows; a judge keeps its judgements there) and
    ``llm`` for one scored by the LLM judge. Unknown names raise ValueError before anything is written."""
    if is_shipped(name):
        return shipped_workload(name, n, seed, problems=problems)
    if memory is None:
        raise ValueError(f"{name!r} is not a shipped benchmark; a dataset you added needs its memory file")
    with memory.session() as store:
        dataset = _stored(store, name)
        problems = problems if problems is not None else stored.load_problems(store, dataset, n, seed)
    remember(problems)
    verifier = SandboxVerifier(dataset.verifier) if dataset.verifier else None
    return Workload(benchmark=dataset.name, tasks=[as_task(p) for p in problems],
                    grader=_grader(dataset, problems, memory, llm), verifier=verifier)


def _grader(dataset: stored.StoredDataset, problems: list[Problem], memory: Sessions, llm: Models | None):
    if dataset.scorer.kind == "judge":
        if llm is None:
            raise ValueError(f"dataset {dataset.name!r} is graded by an LLM judge: a model client is needed")
        return JudgeGrader(problems, dataset.scorer, llm, memory, dataset.name)
    if dataset.label_free:
        return None  # nothing to grade with: the loop learns from the verifier and agreement
    return LabelGrader(problems, lambda prediction, problem: score(dataset.scorer, prediction, problem.answer))


def dataset_record(name: str, memory: Sessions | None) -> dict[str, object]:
    """What a run records about its dataset: for a stored one, its content hash, scorer and size. Refuses
    (ValueError) a name that is neither shipped nor stored."""
    if is_shipped(name):
        return {"dataset": {"name": name, "kind": "shipped"}}
    if memory is None:
        raise ValueError(f"{name!r} is not a shipped benchmark; a dataset you added needs its memory file")
    with memory.session() as store:
        dataset = _stored(store, name)
    return {"dataset": {"name": dataset.name, "kind": "stored", "content_hash": dataset.content_hash,
                        "rows": dataset.rows, "answers": not dataset.label_free, "scorer": dataset.scorer.model_dump(),
                        "verifier": bool(dataset.verifier)}}


__all__ = ["DatasetInfo", "catalog", "dataset_names", "dataset_record", "is_shipped", "load_problems",
           "score_prediction", "workload"]
