"""Scoring rollout records with a benchmark's rules, into audit rows.

An audit row is the rollout record (SPEC section 2, fields untouched) plus what a reader needs to
see why it was marked right or wrong: ``extracted`` (what was taken out of the response),
``normalised`` (what the official normaliser compared), ``correct`` (null when the split hides
its answers), ``rule`` (which extraction rule fired), ``detail`` and, when a judge was used,
``judge`` (each call's prompt version and reply).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mmrl.eval.benchmark import Benchmark, get_benchmark
from mmrl.io.jsonl import Located

AUDIT_FIELDS = ("extracted", "normalised", "correct", "rule", "detail")


def reward_params(record: dict[str, Any]) -> dict[str, Any]:
    spec = record.get("reward")
    params = spec.get("params") if isinstance(spec, dict) else None
    return dict(params) if isinstance(params, dict) else {}


def audit_fields(bench: Benchmark, record: Mapping[str, Any], judge=None) -> dict[str, Any]:
    """The audit fields of one scored rollout record."""
    judgement = bench.score(record.get("response") or "", dict(record), reward_params(dict(record)), judge)
    fields: dict[str, Any] = dict(extracted=judgement.extracted, normalised=judgement.normalised,
                                  correct=judgement.correct, rule=judgement.rule, detail=judgement.detail)
    if judgement.judge:
        fields["judge"] = judgement.judge
    return fields


def audit_row(bench: Benchmark, record: dict[str, Any], judge=None) -> dict[str, Any]:
    """Score one rollout record in this process; returns the record with the audit fields added."""
    return {**record, **audit_fields(bench, record, judge)}


@lru_cache(maxsize=16)
def _benchmark(name: str) -> Benchmark:
    return get_benchmark(name)


@dataclass(frozen=True)
class EvalJob:
    """A benchmark's scorer as a job of the reward worker pool: every response is scored under the
    same time limit, memory cap and crash recovery as training rewards (responses are untrusted).

    A scorer that fails or runs out of time marks the item wrong, with the reason in ``detail``
    and ``error``. Judge calls stay in the calling process (they are network I/O with timeouts).
    """

    benchmark: str  # a registered name, or file.py:Class, resolved in each worker

    def updates(self, record: Mapping[str, Any], config) -> dict[str, Any]:
        from mmrl.rewards.deadline import soft_deadline

        try:
            with soft_deadline(config.timeout):
                return audit_fields(_benchmark(self.benchmark), record)
        except Exception as e:  # noqa: BLE001 - a failing scorer is reported per item, not fatal
            return self.failed(record, config, f"scoring failed: {type(e).__name__}: {e}")

    def failed(self, record: Mapping[str, Any], config, reason: str) -> dict[str, Any]:
        return {"extracted": None, "normalised": None, "correct": False, "rule": "error", "detail": reason,
                "error": reason}


def scoring_pool(benchmark: str, workers: int = 2, timeout: float = 2.0):
    """A worker pool that scores rollout records with ``benchmark``'s rules, bounded in time."""
    from mmrl.rewards import RewardConfig, RewardScorer

    return RewardScorer(RewardConfig(workers=workers, timeout=timeout), job=EvalJob(benchmark))


def score_batches(records: Iterable[dict[str, Any]], scorer, batch: int = 64) -> Iterator[dict[str, Any]]:
    """Audit rows of a stream of rollout records through a scoring pool, in order, batch by batch
    (so rows are written as the model produces them, not at the end)."""
    pending: list[dict[str, Any]] = []
    for record in records:
        pending.append(record)
        if len(pending) >= batch:
            yield from scorer.iter_score(pending)
            pending = []
    if pending:
        yield from scorer.iter_score(pending)


def checked_records(items: Iterable[Located]) -> list[dict[str, Any]]:
    """The rollout records of a file, every one checked before any scoring starts (PATH:LINE)."""
    records = []
    for item in items:
        record = item.record
        if not isinstance(record.get("response"), str):
            raise item.error("required field is missing (a rollout record needs a response)", "response")
        if "id" not in record:
            raise item.error("required field is missing", "id")
        records.append(record)
    return records


def score_located(bench: Benchmark, items: Iterable[Located], judge=None, scorer=None) -> Iterator[dict[str, Any]]:
    """Audit rows for rollout records read from a file; a bad record names its file and line.

    With a ``scorer`` (``scoring_pool``) and no judge, scoring runs in the bounded worker pool;
    otherwise in this process, where a record the benchmark cannot score is a DataError.
    """
    items = list(items)
    records = checked_records(items)
    if scorer is not None and judge is None:
        yield from score_batches(records, scorer)
        return
    for item, record in zip(items, records):
        try:
            yield audit_row(bench, record, judge)
        except (ValueError, TypeError, KeyError) as e:
            raise item.error(f"cannot score with {bench.name}: {e}") from None
