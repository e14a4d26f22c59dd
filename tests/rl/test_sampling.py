"""Prompt samplers, offline difficulty bands, online group filters and dynamic oversampling."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from mmrl.errors import ConfigError
from mmrl.rl.prompt_sampling import (CURRICULUM_WEIGHTS, GROUP_FILTERS, CurriculumSampler, OversampleEMA, PromptSampler,
                              UniformSampler, accuracy_band, difficulty_band)


def via_json(state):
    """What a checkpoint's JSON gives back."""
    return json.loads(json.dumps(state))


# --- uniform ------------------------------------------------------------------------------------
def test_samplers_follow_the_protocol():
    assert isinstance(UniformSampler(3, seed=0), PromptSampler)
    assert isinstance(CurriculumSampler([0.5], seed=0), PromptSampler)


def test_uniform_draws_are_a_function_of_the_seed():
    assert UniformSampler(10, seed=3).draw(10) == UniformSampler(10, seed=3).draw(10)
    assert UniformSampler(10, seed=3).draw(10) != UniformSampler(10, seed=4).draw(10)


def test_uniform_draws_every_item_once_per_epoch_across_draws():
    s = UniformSampler(7, seed=1)
    stream = s.draw(3) + s.draw(3) + s.draw(3) + s.draw(5)  # the third draw spans two epochs
    assert sorted(stream[:7]) == list(range(7)) and sorted(stream[7:]) == list(range(7))


def test_uniform_epochs_are_different_permutations():
    s = UniformSampler(20, seed=0)
    assert s.draw(20) != s.draw(20)


def test_uniform_resume_continues_the_same_sequence():
    unbroken = UniformSampler(7, seed=2)
    expected = [unbroken.draw(k) for k in (3, 4, 5, 2)]
    first = UniformSampler(7, seed=2)
    head = [first.draw(3), first.draw(4)]
    resumed = UniformSampler(7, seed=2)
    resumed.load_state_dict(via_json(first.state_dict()))
    assert head + [resumed.draw(5), resumed.draw(2)] == expected


def test_uniform_ignores_scores():
    s = UniformSampler(4, seed=0)
    before = s.state_dict()
    s.update(1, 1.0)
    assert s.state_dict() == before


def test_resume_on_another_data_set_is_refused():
    with pytest.raises(ConfigError, match="n_items"):
        UniformSampler(8, seed=0).load_state_dict(UniformSampler(7, seed=0).state_dict())


# --- difficulty band ----------------------------------------------------------------------------
D = [0.0, 0.1, 0.5, 0.9, 1.0, None]


def test_band_is_closed_by_default():
    assert difficulty_band(D, 0.1, 0.9) == [1, 2, 3, 5]


def test_strict_band_drops_always_and_never_solved_items():
    # MM-Eureka: keep 0 < d < 1
    assert difficulty_band(D, 0.0, 1.0, strict=True) == [1, 2, 3, 5]
    assert difficulty_band(D, 0.1, 0.9, strict=True) == [2, 5]


def test_band_can_drop_ungraded_items():
    assert difficulty_band(D, 0.0, 1.0, keep_unknown=False) == [0, 1, 2, 3, 4]


def test_band_bounds_must_be_ordered_in_unit_interval():
    with pytest.raises(ConfigError):
        difficulty_band(D, 0.9, 0.1)


# --- curriculum ---------------------------------------------------------------------------------
def test_curriculum_weight_functions():
    assert CURRICULUM_WEIGHTS.names() == ["band", "uniform", "variance"]
    variance, band = CURRICULUM_WEIGHTS.get("variance"), CURRICULUM_WEIGHTS.get("band")
    # 4 p (1 - p) with floor 0.05: p = 0.5 -> 1, p = 0.25 -> 0.75, p = 0.99 -> 0.0396 -> 0.05
    assert [variance(p) for p in (0.5, 0.25, 0.99, 1.0)] == pytest.approx([1.0, 0.75, 0.05, 0.05])
    assert [band(p) for p in (0.05, 0.1, 0.9, 0.95)] == [0.05, 1.0, 1.0, 0.05]


def test_curriculum_starts_from_offline_difficulty():
    # pass = 1 - difficulty, unknown 0.5; variance weights 4 p (1 - p), floor 0.05
    s = CurriculumSampler([0.0, 0.75, None], seed=0)
    assert s.pass_rates == [1.0, 0.25, 0.5]
    assert s.weights() == pytest.approx([0.05, 0.75, 1.0])


def test_curriculum_update_is_an_ema_that_moves_the_weight():
    s = CurriculumSampler([0.0, 0.75, None], seed=0, ema=0.5)
    s.update(1, 1.0)  # 0.5 * 0.25 + 0.5 * 1.0 = 0.625
    s.update(0, 0.0)  # 0.5 * 1.0 + 0.5 * 0.0 = 0.5
    assert s.pass_rates == [0.5, 0.625, 0.5]
    assert s.weights() == pytest.approx([1.0, 4 * 0.625 * 0.375, 1.0])


def test_curriculum_draws_distinct_prompts_within_a_step():
    s = CurriculumSampler([0.5] * 6, seed=0)
    assert sorted(s.draw(6)) == list(range(6))
    assert len(set(s.draw(4))) == 4


def test_curriculum_draws_beyond_the_prompt_count_in_rounds():
    # each round of three takes every prompt once, whatever the weights
    s = CurriculumSampler([0.5, 0.0, 0.9], seed=0)
    assert sorted(Counter(s.draw(6)).values()) == [2, 2, 2]
    assert sorted(Counter(s.draw(7)).values()) == [2, 2, 3]


def test_curriculum_draws_in_proportion_to_weight():
    # weights 0.05, 0.75, 1.0 (sum 1.8): one draw picks them with 0.028, 0.417, 0.556
    s = CurriculumSampler([0.0, 0.75, None], seed=0)
    counts = Counter(i for _ in range(3000) for i in s.draw(1))
    assert [counts[i] / 3000 for i in range(3)] == pytest.approx([0.05 / 1.8, 0.75 / 1.8, 1.0 / 1.8], abs=0.03)


def test_curriculum_draws_are_a_function_of_the_seed():
    d = [0.2, 0.5, None, 0.7, 0.9]

    def run(seed):
        s = CurriculumSampler(d, seed=seed)
        return [s.draw(3) for _ in range(4)]

    assert run(5) == run(5) and run(5) != run(6)


def test_curriculum_resume_continues_the_same_sequence():
    d = [0.2, 0.5, None, 0.7, 0.9, 0.4]

    def step(s):
        idx = s.draw(3)
        for i in idx:
            s.update(i, 1.0 if i % 2 else 0.0)
        return idx

    unbroken = CurriculumSampler(d, seed=3)
    expected = [step(unbroken) for _ in range(4)]
    first = CurriculumSampler(d, seed=3)
    head = [step(first) for _ in range(2)]
    resumed = CurriculumSampler(d, seed=3)
    resumed.load_state_dict(via_json(first.state_dict()))
    assert head + [step(resumed) for _ in range(2)] == expected
    assert resumed.pass_rates == unbroken.pass_rates


def test_curriculum_takes_a_weight_function():
    s = CurriculumSampler([0.0, 1.0], seed=0, weight_fn=lambda p: 1.0 if p > 0.5 else 0.0)
    assert s.draw(1) == [0]


def test_curriculum_refuses_pass_rates_outside_unit_interval():
    with pytest.raises(ValueError):
        CurriculumSampler([0.5], seed=0).update(0, 1.5)


# --- group filters ------------------------------------------------------------------------------
def test_group_filter_names():
    assert GROUP_FILTERS.names() == ["accuracy_band", "nonconstant", "none"]


def test_nonconstant_drops_groups_with_equal_rewards():
    keep = GROUP_FILTERS.get("nonconstant")
    assert keep([1.1, 1.1, 1.1], [1, 1, 1]) is False
    assert keep([1.1, 0.1, 1.1], [1, 0, 1]) is True
    assert keep([], []) is False


def test_registered_accuracy_band_is_mm_eurekas_closed_band():
    keep = GROUP_FILTERS.get("accuracy_band")  # [0.1, 0.9]
    kept = [keep([0.0] * 10, [1.0] * c + [0.0] * (10 - c)) for c in (0, 1, 5, 9, 10)]  # c of 10 correct
    assert kept == [False, True, True, True, False]


def test_accuracy_band_reads_accuracies_not_rewards():
    keep = accuracy_band(0.5, 1.0)
    assert keep([1.5, 1.0], [1.0, 1.0]) is True
    assert keep([1.5, 1.0], [0.0, 0.0]) is False


def test_none_keeps_every_group():
    assert GROUP_FILTERS.get("none")([1.0, 1.0], [1.0, 1.0]) is True


# --- oversampling -------------------------------------------------------------------------------
def test_oversampling_starts_at_the_batch_size():
    o = OversampleEMA()
    assert o.rate == 0.0 and o.expansion() == 1.0 and o.prompts_to_draw(8) == 8


def test_oversampling_expands_by_one_over_one_minus_the_ema():
    o = OversampleEMA(alpha=0.5)
    o.update(0.5)  # r = 0.5 * 0 + 0.5 * 0.5 = 0.25; expansion 1 / 0.75 = 4/3
    assert o.expansion() == pytest.approx(4 / 3)
    assert (o.prompts_to_draw(6), o.prompts_to_draw(7)) == (8, 10)  # 8, ceil(9.33)


def test_oversampling_is_capped():
    o = OversampleEMA(alpha=0.5, max_expansion=4.0)
    for _ in range(3):
        o.update(1.0)  # r = 0.5, 0.75, 0.875 -> 1/(1-r) = 8
    assert o.expansion() == 4.0 and o.prompts_to_draw(8) == 32
    o.update(0.0)
    o.update(0.0)  # r = 0.21875
    assert o.expansion() == pytest.approx(1 / 0.78125)


def test_oversampling_ignores_float_noise():
    o = OversampleEMA(alpha=0.7)
    o.update(0.4)  # r = 0.12: 22 / 0.88 = 25 exactly, 25.000000000000004 in floats
    assert o.prompts_to_draw(22) == 25


def test_oversampling_resumes_its_rate():
    o = OversampleEMA(alpha=0.5)
    o.update(0.3)
    p = OversampleEMA(alpha=0.5)
    p.load_state_dict(via_json(o.state_dict()))
    assert p.rate == o.rate == 0.15
