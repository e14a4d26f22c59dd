"""Training and eval samples for the RL trainer, checked in full before any model loads.

Every problem of every record is reported at once (``PATH:LINE: field: reason``, ``PATH:row N``
for Parquet and datasets): SPEC validation (images open, answers typed), unique ids, and a
reward spec whose verifier resolves and whose weights are numbers; hours of generation must not
end on a typo in line 90,000. ``--data`` is any source ``mmrl.io.samples`` reads (JSONL, Parquet,
dataset folders), with ``--split`` and ``--columns``.
"""
from __future__ import annotations

from collections.abc import Mapping

from mmrl.errors import DataError, DataErrors
from mmrl.io.jsonl import Located
from mmrl.io.samples import open_samples
from mmrl.rewards import RewardConfig
from mmrl.rewards.spec import RECORD_CHECKS
from mmrl.rewards.scoring import validate_record


def load_samples(path: str, reward: RewardConfig, what: str = "--data", split: str | None = None,
                 columns: Mapping[str, str] | None = None) -> list[Located]:
    """All samples of ``path``, or DataErrors listing every problem; refuses an empty source."""
    errors: list[DataError] = []
    items: list[Located] = []
    for checked in open_samples(path, split=split, columns=columns, checks=RECORD_CHECKS).scan("sample", references="verify"):
        errors.extend(checked.problems)
        item = checked.item
        if item is None:
            continue
        items.append(item)
        if item.record.get("answer") is None and "answer" not in {e.field for e in checked.problems}:
            errors.append(item.error("required for RL: the verifier compares each response with it "
                                     "(map another column with --columns answer=COLUMN)", "answer"))
            continue
        # the run's own reward settings too (its default verifier, its weights)
        problem = validate_record({**item.record, "response": ""}, reward)
        if problem is not None and problem[0] not in {e.field for e in checked.problems}:
            field, reason = problem
            errors.append(item.error(reason, field))
    if errors:
        raise DataErrors(errors) if len(errors) > 1 else errors[0]
    if not items:
        raise DataError(path, None, f"{what} holds no samples")
    return items
