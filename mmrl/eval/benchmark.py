"""The benchmark adapter contract and its registry.

A benchmark is one class with one job per method: say where its data lives (hub id, config,
splits), turn one row of the benchmark's own schema into a SPEC.md sample (``to_sample``), and
score a response against that sample with the benchmark's official rules (``score``). The sample
carries everything the scorer needs (``choices``, ``reward.params``, ``meta``), so the same
scorer serves ``mmrl eval``, ``mmrl reward`` and grpo as a verifier. Breakdown keys name ``meta``
fields whose accuracy the benchmark's paper reports per value.

Adding a benchmark is one new file under ``mmrl/eval/benchmarks/`` with ``@register_benchmark``,
or a user file passed as ``path/to/bench.py:MyBenchmark``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mmrl.registry import Registry

Row = dict[str, Any]
Sample = dict[str, Any]

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")


class RowError(ValueError):
    """A benchmark row that cannot become a sample; the loader adds the file and line."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class Judgement:
    """The verdict on one response, with what the audit needs to explain it.

    ``extracted``: the answer taken out of the response; ``normalised``: what the official
    normaliser made of it (the value compared with the reference); ``correct``: None when the
    sample has no reference answer (a hidden test split); ``rule``: which extraction rule fired;
    ``detail``: a short reason (e.g. the option chosen by edit distance); ``judge``: the judge
    calls made, when a judge was used.
    """

    extracted: str | None
    normalised: str | None
    correct: bool | None
    rule: str
    detail: str = ""
    judge: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return 1.0 if self.correct else 0.0


class Benchmark:
    """Base class of benchmark adapters; subclasses set the class attributes and two methods."""

    name: ClassVar[str]
    summary: ClassVar[str]
    hub_id: ClassVar[str]
    hub_config: ClassVar[str | None] = None
    default_split: ClassVar[str]
    splits: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]] = ()
    image_fields: ClassVar[tuple[str, ...]] = ("image",)
    breakdowns: ClassVar[tuple[str, ...]] = ()
    judge_roles: ClassVar[tuple[str, ...]] = ()  # what a judge may do here: "extract", "match"
    scorer: ClassVar[str]  # the official rules reproduced, cited in the summary
    is_verifier: ClassVar[bool] = True  # also offered as a reward verifier under its name
    verifier: ClassVar[str | None] = None  # the verifier its samples name (default: its own name)
    lenient: ClassVar[bool] = False  # a lenient-mode variant: its samples carry params {"lenient": true}

    def to_sample(self, row: Row, images: list[str], index: int, split: str) -> Sample:
        """One row of the benchmark's schema (images already resolved to refs) as a SPEC sample."""
        raise NotImplementedError

    def score(self, response: str, sample: Sample, params: dict[str, Any], judge=None) -> Judgement:
        """Score a response with the official rules; ``params`` is the sample's ``reward.params``."""
        raise NotImplementedError

    # helpers shared by adapters -------------------------------------------------------------
    def reward_spec(self, **params: Any) -> dict[str, Any]:
        """The sample's own reward spec: this benchmark's verifier and its parameters."""
        params = {k: v for k, v in params.items() if v is not None}
        if self.lenient:
            params["lenient"] = True
        return {"verifier": self.verifier or self.name, "params": params}


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator: register an adapter under its ``name``."""
    BENCHMARKS.add(cls.name, cls)
    return cls


def load_builtin() -> None:
    """Import the built-in adapters (each registers itself); cheap, no torch."""
    importlib.import_module("mmrl.eval.benchmarks")


def get_benchmark(name: str) -> Benchmark:
    """An adapter instance by registered name, or from ``file.py:Class`` / ``module:Class``."""
    load_builtin()
    return BENCHMARKS.get(name)()


def benchmark_names() -> list[str]:
    load_builtin()
    return BENCHMARKS.names()


def require(row: Row, name: str, kind: type | tuple[type, ...] = str) -> Any:
    """A row field of the expected type, or a RowError naming it."""
    if name not in row or row[name] is None:
        raise RowError(name, "required field is missing")
    value = row[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RowError(name, f"must be {want}, got {type(value).__name__}")
    return value


def answer_text(value: Any) -> str:
    """A reference answer as the string the official scorers compare against (they hold strings)."""
    return value if isinstance(value, str) else str(value)
