"""Scoring rollout records with a benchmark's rules, into audit rows.

An audit row is the rollout record (SPEC section 2, fields untouched) plus what a reader needs to
see why it was marked right or wrong: ``extracted`` (what was taken out of the response),
``normalised`` (what the official normaliser compared), ``correct`` (null when the split hides
its answers), ``rule`` (which extraction rule fired), ``detail`` and, when a judge was used,
``judge`` (each call's prompt version and reply).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mmrl.errors import DataError
from mmrl.eval.benchmark import Benchmark
from mmrl.io.jsonl import Located

AUDIT_FIELDS = ("extracted", "normalised", "correct", "rule", "detail")


def reward_params(record: dict[str, Any]) -> dict[str, Any]:
    spec = record.get("reward")
    params = spec.get("params") if isinstance(spec, dict) else None
    return dict(params) if isinstance(params, dict) else {}


def audit_row(bench: Benchmark, record: dict[str, Any], judge=None) -> dict[str, Any]:
    """Score one rollout record; returns the record with the audit fields added."""
    judgement = bench.score(record.get("response") or "", record, reward_params(record), judge)
    row = dict(record)
    row.update(extracted=judgement.extracted, normalised=judgement.normalised, correct=judgement.correct,
               rule=judgement.rule, detail=judgement.detail)
    if judgement.judge:
        row["judge"] = judgement.judge
    return row


def score_located(bench: Benchmark, items: Iterable[Located], judge=None) -> Iterator[dict[str, Any]]:
    """Audit rows for rollout records read from a file; a bad record names its file and line."""
    for item in items:
        record = item.record
        if not isinstance(record.get("response"), str):
            raise item.error("required field is missing (a rollout record needs a response)", "response")
        if "id" not in record:
            raise item.error("required field is missing", "id")
        try:
            yield audit_row(bench, record, judge)
        except (ValueError, TypeError, KeyError) as e:
            raise DataError(item.path, item.line, f"cannot score with {bench.name}: {e}") from None
