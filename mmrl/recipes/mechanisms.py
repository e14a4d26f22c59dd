"""Whether a recipe's mechanism acted in a grpo run, read from its ``metrics.jsonl`` rows.

A metric key being present proves little: a step logs ``updates: 1`` even when every advantage is 0,
and a reward component's mean is logged when it is 0 in every sample. Each check below asks for the
value that shows the mechanism at work (issue 23, "Done when"): some step whose rewards differ within
a group (``advantage/mean_abs > 0``, so the update moved the policy), and per paper the metric of its
own mechanism, non-zero where a zero means it never fired.

``unmet(recipe, rows)`` returns the requirements the rows fail, each as a short sentence; ``[]`` means
every one holds. ``recipe`` is a recipe file's stem (``glm41v_rlcs``, ``r1vl_stepgrpo``, ...); one
without checks of its own gets only the common one.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Row = Mapping[str, Any]
Check = tuple[str, Callable[[Sequence[Row]], bool]]


def _positive(row: Row, key: str) -> bool:
    value = row.get(key)
    return isinstance(value, (int, float)) and value > 0


def some_step(*keys: str) -> Callable[[Sequence[Row]], bool]:
    """True when one step has every one of ``keys`` > 0."""
    return lambda rows: any(all(_positive(r, k) for k in keys) for r in rows)


def logged(key: str) -> Callable[[Sequence[Row]], bool]:
    return lambda rows: any(key in r for r in rows)


def sources_rewarded(rows: Sequence[Row]) -> set[str]:
    """The sources with a non-zero mean reward in some step (``reward/SOURCE/mean`` keys)."""
    return {k[len("reward/"):-len("/mean")] for r in rows for k in r
            if k.startswith("reward/") and k.endswith("/mean") and k != "reward/mean" and _positive(r, k)}


def every_step_updates(n: int) -> Callable[[Sequence[Row]], bool]:
    return lambda rows: bool(rows) and all(r.get("updates") == n for r in rows)


COMMON: list[Check] = [
    ("a step with reward std > 0 (advantage/mean_abs > 0)", some_step("advantage/mean_abs")),
]
CHECKS: dict[str, list[Check]] = {
    "glm41v_rlcs": [
        ("a step with forced_frac > 0 (forced answering)", some_step("forced_frac")),
        ("oversample_expansion logged", logged("oversample_expansion")),
        ("curriculum/weight_mean logged", logged("curriculum/weight_mean")),
    ],
    "r1vl_stepgrpo": [
        ("a step with step_rar/mean > 0 and step_rvr/mean > 0", some_step("step_rar/mean", "step_rvr/mean")),
        ("kl logged", logged("kl")),
    ],
    "vtriune": [
        ("iou_threshold logged and > 0", some_step("iou_threshold")),
        ("a non-zero reward in 2 or more sources", lambda rows: len(sources_rewarded(rows)) >= 2),
    ],
    "mm_eureka": [
        ("2 updates in every step", every_step_updates(2)),
        ("filter/kept_frac logged", logged("filter/kept_frac")),
    ],
}


def unmet(recipe: str, rows: Sequence[Row]) -> list[str]:
    """The requirements of ``recipe``'s mechanism that ``rows`` (a grpo run's metrics) fail."""
    if not rows:
        return ["no grpo step in metrics.jsonl"]
    return [what for what, holds in [*COMMON, *CHECKS.get(recipe, [])] if not holds(rows)]
