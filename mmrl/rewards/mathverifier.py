"""The ``math`` verifier: is the extracted answer mathematically the reference?"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrl.rewards.base import VerifierResult, param, reference_answers, register_verifier
from mmrl.rewards.extract import extract_from_params
from mmrl.rewards.mathparse import Tolerance, math_equal


def tolerance_from(params: Mapping[str, Any], rel: float) -> Tolerance:
    return Tolerance(rel=param(params, "rel_tol", rel, float), abs=param(params, "abs_tol", 0.0, float))


@register_verifier("math")
def verify_math(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Math answers: symbolic/numeric equivalence (fractions, %, units, x=2, intervals, sets, matrices).

    Params: ``rel_tol`` (1e-6, GLM's math tolerance), ``abs_tol`` (0), plus the extraction
    settings ``fallback`` and ``boxes``. A list ``answer`` lists accepted alternatives.
    """
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None)
    tol = tolerance_from(params, 1e-6)
    ok = any(math_equal(gold, found.text, tol) for gold in reference_answers(sample))
    return VerifierResult(1.0 if ok else 0.0, found.text)
