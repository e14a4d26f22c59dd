"""What a verifier is, and the registry that names them.

A verifier is a plain function ``(response, sample, params) -> VerifierResult``: it takes the
decoded completion, the whole record (``answer``, ``choices``, ``key_steps``... are read from it)
and the merged parameters of the sample and the run, and says how right the answer is. Verifiers
are registered by name, so that each record's ``reward.verifier`` picks one (V-Triune's
sample-level dispatch); users add their own with ``@register_verifier("name")`` or by naming
``path/to/file.py:function`` wherever a verifier name is accepted.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mmrl.registry import Registry


@dataclass
class VerifierResult:
    """A verifier's verdict on one response.

    ``accuracy`` is in [0, 1] (``check_result`` refuses any other value: grade, curricula and
    group filters read it as a pass rate; the piecewise step rewards are components),
    ``extracted`` is the answer text taken out of the response (None when there was none), and
    ``components`` holds extra reward components (``map``, ``step_rar``...) that weights may name.
    """

    accuracy: float
    extracted: str | None = None
    components: dict[str, float] = field(default_factory=dict)


Verifier = Callable[[str, Mapping[str, Any], Mapping[str, Any]], VerifierResult]

# Verifier names come from data (a sample's reward.verifier): looking one up never loads code; the
# trusted places (flags, recipes, RewardConfig) load theirs with VERIFIERS.load.
VERIFIERS: Registry[Verifier] = Registry("verifier", loads_code=False)

# Components a verifier's samples are weighted by when neither the sample nor the run says.
_DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {}


def register_verifier(name: str, *, weights: Mapping[str, float] | None = None, replace: bool = False):
    """Decorator: register ``fn`` as the verifier ``name``.

    ``weights`` are this verifier's own default component weights (the step rewards weigh
    ``step_rar``/``step_rvr`` rather than ``accuracy``); a sample's or the run's weights win.
    The function's first docstring line is what ``mmrl reward --list-verifiers`` shows.
    """

    def deco(fn: Verifier) -> Verifier:
        VERIFIERS.add(name, fn, replace=replace)
        if weights is not None:
            _DEFAULT_WEIGHTS[name] = dict(weights)
        return fn

    return deco


def verifier_default_weights(name: str) -> dict[str, float] | None:
    return dict(_DEFAULT_WEIGHTS[name]) if name in _DEFAULT_WEIGHTS else None


def summary_of(fn: Callable[..., Any]) -> str:
    """The first line of a verifier's docstring (its one-line description)."""
    doc = (fn.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def check_result(name: str, result: Any) -> VerifierResult:
    """Refuse a verifier result that would poison the rewards (wrong type, NaN, infinities)."""
    if not isinstance(result, VerifierResult):
        raise TypeError(f"verifier {name!r} returned {type(result).__name__}, expected VerifierResult")
    values = {"accuracy": result.accuracy, **result.components}
    for comp, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"verifier {name!r} gave {comp}={v!r}, expected a finite number")
    if not 0.0 <= result.accuracy <= 1.0:  # a pass rate: grade, curricula and filters read it as one
        raise ValueError(f"verifier {name!r} gave accuracy={result.accuracy!r}, expected a number in [0, 1]")
    if result.extracted is not None and not isinstance(result.extracted, str):
        raise TypeError(f"verifier {name!r} gave a non-string extracted answer")
    return result


def param(params: Mapping[str, Any], name: str, default: Any, kind: type | tuple[type, ...] | None = None) -> Any:
    """Read one verifier parameter, checking its type so a typo in a recipe fails loudly."""
    value = params.get(name, default)
    if kind is not None and value is not None and not isinstance(value, kind):
        if kind in (float, (int, float)) and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValueError(f"param {name} must be {want}, got {value!r}")
    return value


def reference_answers(sample: Mapping[str, Any]) -> list[str]:
    """The sample's ``answer`` as text; a list of strings/numbers is a list of accepted answers."""
    if "answer" not in sample or sample["answer"] is None:
        raise ValueError("the sample has no answer")
    answer = sample["answer"]
    items = answer if isinstance(answer, list) else [answer]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"answer must be text or numbers for this verifier, got {type(item).__name__}")
        out.append(item if isinstance(item, str) else repr(item))
    if not out:
        raise ValueError("the sample's answer list is empty")
    return out
