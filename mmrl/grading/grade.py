"""Scored rollouts in, one graded sample per id out (SPEC section 4)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mmrl.io.jsonl import Located
from mmrl.io.schema import check_rollout, check_scored
from mmrl.grading.bands import Band, Buckets
from mmrl.grading.pass_at_k import DIFFICULTY, group_stats, merge_difficulty
from mmrl.rewards.scoring import counted_accuracy

# Fields of a draw (rollout and reward) that are not fields of the sample itself.
DRAW_FIELDS = ("sample", "response", "finish_reason", "num_tokens", "model", "extracted", "rewards", "error", "gate")


@dataclass
class Group:
    """The draws of one sample id, in input order, with the line of its first draw."""

    id: str
    first: Located
    draws: list[dict[str, Any]] = field(default_factory=list)


def group_draws(items: Iterable[Located]) -> list[Group]:
    """Collect scored draws by sample id (first-seen order); every record is checked first.

    A record that is not a scored rollout, or a (id, sample) pair seen twice, is a DataError
    naming its file and line.
    """
    groups: dict[str, Group] = {}
    seen: dict[tuple[str, Any], int] = {}
    for item in items:
        r = item.record
        rid = r.get("id")
        if not isinstance(rid, str) or not rid:
            raise item.error("required non-empty string is missing", "id")
        problems = check_rollout(r) + check_scored(r)
        if problems:
            raise item.error(problems[0].reason + " (grade reads scored rollouts: run mmrl reward first)",
                             problems[0].field)
        key = (rid, r["sample"])
        if key in seen:
            raise item.error(f"duplicate draw {r['sample']} of id {rid!r} (first on line {seen[key]})", "sample")
        seen[key] = item.line
        group = groups.get(rid)
        if group is None:
            group = groups[rid] = Group(rid, item)
        group.draws.append(r)
    return list(groups.values())


@dataclass
class GradeConfig:
    """How draws become a graded sample."""

    ks: tuple[int, ...] = (1, 4, 8)
    correct_threshold: float = 1.0
    difficulty: str = "fail_rate"
    human_weight: float = 0.5
    keep: Band | None = None
    buckets: Buckets | None = None


def sample_fields(draw: dict[str, Any]) -> dict[str, Any]:
    """The sample a draw was drawn from: the draw's record without the rollout/reward fields."""
    return {k: v for k, v in draw.items() if k not in DRAW_FIELDS}


def graded_record(group: Group, cfg: GradeConfig) -> dict[str, Any]:
    """SPEC section 4 record of one sample; a difficulty the sample already had is a human label."""
    draws = group.draws
    stats = group_stats([counted_accuracy(d) for d in draws],
                        [float(d["rewards"]["total"]) for d in draws], cfg.ks, cfg.correct_threshold)
    measured = float(DIFFICULTY.get(cfg.difficulty)(stats))
    if not 0.0 <= measured <= 1.0:
        raise ValueError(f"difficulty measure {cfg.difficulty!r} returned {measured}, outside [0, 1]")
    record = sample_fields(draws[0])
    human = record.get("difficulty")
    human = float(human) if isinstance(human, (int, float)) and not isinstance(human, bool) else None
    record.update(
        n=stats.n,
        correct=stats.correct,
        pass_at_k={str(k): round(v, 6) for k, v in stats.pass_at_k.items()},
        mean_reward=round(stats.mean_reward, 6),
        difficulty=round(merge_difficulty(measured, human, cfg.human_weight), 6),
    )
    if human is not None:
        record.update(difficulty_measured=round(measured, 6), difficulty_human=human)
    if cfg.buckets is not None:
        record["level"] = cfg.buckets.level(record["difficulty"])
    return record


@dataclass
class GradeResult:
    kept: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    errors: int  # draws whose verifier failed (scored 0, counted as wrong)


def grade_groups(groups: Iterable[Group], cfg: GradeConfig) -> GradeResult:
    """Grade every sample and split them by the accuracy band (all kept without one)."""
    kept, dropped, errors = [], [], 0
    for group in groups:
        record = graded_record(group, cfg)
        errors += sum(1 for d in group.draws if "error" in d)
        accuracy = record["correct"] / record["n"]
        (kept if cfg.keep is None or cfg.keep.keeps(accuracy) else dropped).append(record)
    return GradeResult(kept, dropped, errors)
