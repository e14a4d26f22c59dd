"""Per-sample statistics of n scored draws: unbiased pass@k and difficulty.

Pure functions of counts, in the manner of verl's ``core_algos``. Difficulty measures are an
extension point: register one with ``@DIFFICULTY.register("name")`` (or name ``file.py:fn``);
each takes a ``GroupStats`` and returns a float in [0, 1], 0 = always solved, 1 = never solved.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mmrl.registry import Registry


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n draws with c correct: ``1 - C(n-c, k) / C(n, k)`` (Chen et al. 2021).

    Computed as ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``, which stays exact for large n.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs at least {k} draws, got {n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


@dataclass(frozen=True)
class GroupStats:
    """What the draws of one sample add up to."""

    n: int
    correct: int
    mean_reward: float
    pass_at_k: dict[int, float]

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


def group_stats(accuracies: Sequence[float], totals: Sequence[float], ks: Sequence[int],
                threshold: float = 1.0) -> GroupStats:
    """Statistics of one sample's draws; a draw is correct when its accuracy reaches ``threshold``.

    pass@k is given for every k in ``ks`` that is at most n (it is undefined above n).
    """
    n = len(accuracies)
    if n == 0:
        raise ValueError("a group needs at least one draw")
    c = sum(1 for a in accuracies if a >= threshold)
    mean = sum(totals) / len(totals) if totals else 0.0
    return GroupStats(n=n, correct=c, mean_reward=mean, pass_at_k={k: pass_at_k(n, c, k) for k in ks if k <= n})


DifficultyFn = Callable[[GroupStats], float]
DIFFICULTY: Registry[DifficultyFn] = Registry("difficulty measure")


@DIFFICULTY.register("fail_rate")
def fail_rate(stats: GroupStats) -> float:
    """Share of draws that were wrong: 1 - c/n (= 1 - pass@1)."""
    return 1.0 - stats.accuracy


@DIFFICULTY.register("pass_at_max_k")
def fail_at_max_k(stats: GroupStats) -> float:
    """1 - pass@k at the largest k computed: only prompts no draw solves are hard."""
    if not stats.pass_at_k:
        return fail_rate(stats)
    return 1.0 - stats.pass_at_k[max(stats.pass_at_k)]


def merge_difficulty(measured: float, human: float | None, human_weight: float) -> float:
    """Measured difficulty blended with a human label: ``w * human + (1 - w) * measured``."""
    if human is None:
        return measured
    if not 0.0 <= human_weight <= 1.0:
        raise ValueError(f"human weight must be in [0, 1], got {human_weight}")
    return human_weight * human + (1.0 - human_weight) * measured
