"""Benchmarks scored by mmrl's own ``math`` verifier: the definition of a correct math answer
that training rewards use, so an eval number and a training reward mean the same thing."""
from __future__ import annotations

from typing import Any

from mmrl.eval.benchmark import Benchmark, Judgement


def math_verifier():
    """The reward library's ``math`` verifier (imported lazily: it may pull in SymPy)."""
    import mmrl.rewards.mathverifier  # noqa: F401 - registers "math"
    from mmrl.rewards.base import VERIFIERS

    return VERIFIERS.get("math")


class MathVerified(Benchmark):
    """Base of benchmarks whose answers are free-form math checked by the ``math`` verifier."""

    judge_roles = ()
    scorer = "mmrl math verifier (shared with training rewards)"

    def score(self, response: str, sample: dict[str, Any], params: dict[str, Any], judge=None) -> Judgement:
        if sample.get("answer") is None:
            return Judgement(None, None, None, "math_verifier", "no reference answer")
        result = math_verifier()(response, sample, params)
        correct = result.accuracy >= 1.0
        detail = "" if correct else ("no answer found" if result.extracted is None else "not equivalent")
        return Judgement(result.extracted, result.extracted, correct, "math_verifier", detail)
