"""Training and eval samples for the RL trainer, checked in full before any model loads.

Every problem of every record is reported at once (``PATH:LINE: field: reason``): SPEC
validation (images open, answers typed), unique ids, and a reward spec whose verifier resolves
and whose weights are numbers; hours of generation must not end on a typo in line 90,000.
"""
from __future__ import annotations

from mmrl.errors import DataError, DataErrors
from mmrl.io.jsonl import Located, iter_parsed
from mmrl.io.schema import base_dir_of, validate_located
from mmrl.rewards import RewardConfig
from mmrl.rewards.scoring import validate_record


def load_samples(path: str, reward: RewardConfig, what: str = "--data") -> list[Located]:
    """All samples of ``path``, or DataErrors listing every problem; refuses an empty file."""
    errors: list[DataError] = []
    items: list[Located] = []
    for item in iter_parsed(path):
        (errors if isinstance(item, DataError) else items).append(item)
    errors.extend(validate_located(items, base_dir_of(path), "sample", references="verify"))
    reported = {(e.line, e.field) for e in errors}
    for item in items:  # the run's own reward settings too (its default verifier, its weights)
        problem = validate_record({**item.record, "response": ""}, reward)
        if problem is not None and (item.line, problem[0]) not in reported:
            field, reason = problem
            errors.append(item.error(reason, field))
    if errors:
        errors.sort(key=lambda e: e.line or 0)
        raise DataErrors(errors) if len(errors) > 1 else errors[0]
    if not items:
        raise DataError(path, None, f"{what} holds no samples")
    return items
