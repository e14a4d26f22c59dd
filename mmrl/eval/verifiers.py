"""Every benchmark scorer as a reward verifier, so training can use the exact benchmark rules.

Importing this module registers one verifier per built-in benchmark under the benchmark's name
(``mathvista``, ``mathverse``, ``mathvision``, ``chartqa``, ``k12``, ``geometry3k``); each reads
the sample's ``choices``/``answer``/``meta`` and the merged ``params`` (MathVista:
``question_type``, ``answer_type``, ``precision``), exactly as ``mmrl eval`` scores. The judge is
never used here: rewards must be deterministic and free. Light on purpose: no torch, no
transformers, so ``mmrl reward`` starts fast.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrl.eval.benchmark import BENCHMARKS, Benchmark, load_builtin
from mmrl.rewards.base import VERIFIERS, VerifierResult, register_verifier


def as_verifier(bench: Benchmark):
    """Wrap a benchmark's ``score`` as ``(response, sample, params) -> VerifierResult``."""

    def verify(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
        judgement = bench.score(response, dict(sample), dict(params), None)
        extracted = judgement.extracted if judgement.extracted is None else str(judgement.extracted)
        return VerifierResult(accuracy=judgement.accuracy, extracted=extracted)

    verify.__name__ = f"{bench.name}_verifier"
    verify.__doc__ = f"{bench.summary}.\n\nRules: {bench.scorer}."
    return verify


def register_all() -> list[str]:
    """Register (idempotently) a verifier for every built-in benchmark; returns their names."""
    load_builtin()
    names = []
    for name in BENCHMARKS.names():
        if not BENCHMARKS.get(name).is_verifier:
            continue
        if name not in VERIFIERS:
            register_verifier(name)(as_verifier(BENCHMARKS.get(name)()))
        names.append(name)
    return names


BENCHMARK_VERIFIERS = register_all()
