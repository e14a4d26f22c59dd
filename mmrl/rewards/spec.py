"""A record's reward spec, checked before any work: ``reward.verifier`` names a verifier this
build has (a ``file.py:function`` only when a flag, recipe or library call allowed it), and the
params every verifier shares hold values that scoring accepts. Verifier-specific params are
checked by the verifier when it scores.

``reward_problems`` is a record check for the sample readers (``open_samples(..., checks=...)``):
the I/O layer below knows no verifier, so the commands that read samples pass it in.
"""
from __future__ import annotations

from typing import Any

from mmrl.errors import MmrlError


def _verifier_problem(name: Any, field: str) -> tuple[str, str] | None:
    from mmrl.rewards.lookup import resolve_verifier

    if not isinstance(name, str) or not name:
        return None  # the structural check reports the type
    try:
        resolve_verifier(name)
    except MmrlError as e:
        return field, str(e)
    except Exception as e:  # noqa: BLE001 - user code that fails to import is this record's problem
        return field, f"cannot load {name}: {type(e).__name__}: {e}"
    return None


def _choice_problem(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    if key in params and params[key] not in allowed:
        return f"reward.params.{key}", f"must be one of {', '.join(allowed)}, got {params[key]!r}"
    return None


def reward_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for a reward spec that scoring would refuse: an unknown verifier (also a
    step verifier's ``answer_verifier``), a shared param outside its values."""
    spec = record.get("reward")
    if not isinstance(spec, dict):
        return []
    from mmrl.rewards.extract import BOX_MODES, FALLBACKS
    from mmrl.rewards.format import FORMAT_MODES

    found = [_verifier_problem(spec.get("verifier"), "reward.verifier")] if "verifier" in spec else []
    params = spec.get("params")
    if isinstance(params, dict):
        if "answer_verifier" in params:
            found.append(_verifier_problem(params["answer_verifier"], "reward.params.answer_verifier"))
        found.append(_choice_problem(params, "fallback", tuple(FALLBACKS)))
        found.append(_choice_problem(params, "boxes", tuple(BOX_MODES)))
        found.append(_choice_problem(params, "format_mode", tuple(FORMAT_MODES)))
    return [p for p in found if p is not None]


RECORD_CHECKS = (reward_problems,)  # what every command reading samples checks of the reward
