"""pass@k and difficulty against hand-computed values."""
from __future__ import annotations

from math import comb

import pytest

from mmrl.grading import DIFFICULTY, group_stats, merge_difficulty, pass_at_k


@pytest.mark.parametrize("n, c, k, expected", [
    (4, 1, 1, 0.25),               # c/n
    (4, 1, 2, 1 - 3 / 6),          # 1 - C(3,2)/C(4,2)
    (8, 2, 4, 1 - 15 / 70),        # 1 - C(6,4)/C(8,4)
    (8, 0, 8, 0.0),                # never solved
    (8, 8, 1, 1.0),                # always solved
    (4, 3, 2, 1.0),                # n - c < k: every k-subset holds a correct draw
    (10, 3, 5, 1 - 21 / 252),      # 1 - C(7,5)/C(10,5)
])
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_the_combinatorial_formula_everywhere():
    for n in range(1, 17):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - comb(n - c, k) / comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12), (n, c, k)


def test_pass_at_k_refuses_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError, match="needs at least 8 draws"):
        pass_at_k(4, 1, 8)


def test_group_stats_counts_correct_at_the_threshold_and_skips_k_above_n():
    stats = group_stats([1.0, 0.0, 0.5, 1.0], [1.0, 0.1, 0.6, 1.0], ks=(1, 4, 8))
    assert (stats.n, stats.correct, stats.mean_reward) == (4, 2, pytest.approx(0.675))
    assert set(stats.pass_at_k) == {1, 4}
    assert group_stats([1.0, 0.0, 0.5, 1.0], [0, 0, 0, 0], ks=(1,), threshold=0.5).correct == 3


def test_difficulty_measures():
    stats = group_stats([1, 0, 0, 0], [1, 0, 0, 0], ks=(1, 4))
    assert DIFFICULTY.get("fail_rate")(stats) == 0.75
    assert DIFFICULTY.get("pass_at_max_k")(stats) == pytest.approx(0.0)  # pass@4 with one correct of 4 is 1


def test_human_label_merge():
    assert merge_difficulty(0.2, None, 0.5) == 0.2
    assert merge_difficulty(0.2, 0.8, 0.5) == pytest.approx(0.5)
    assert merge_difficulty(0.2, 0.8, 1.0) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        merge_difficulty(0.2, 0.8, 1.5)
