"""Advantage estimators against values computed by hand.

The shared batch: five responses in two interleaved groups of unequal size,
group 7 = responses 0, 2, 4 with rewards 1, 2, 0 (mean 1, unbiased var (0 + 1 + 1)/2 = 1),
group 3 = responses 1, 3 with rewards 0, 1 (mean 0.5, unbiased var (0.25 + 0.25)/1 = 0.5).
"""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.rl.advantages import ADVANTAGES, compute_advantages

REWARDS = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.0], dtype=torch.float64)
GROUP = torch.tensor([7, 3, 7, 3, 7])
S = math.sqrt(0.5)  # std of group 3


def adv(name, rewards=REWARDS, group=GROUP, **kw):
    return compute_advantages(name, rewards, group, **kw).tolist()


def test_registered_names():
    builtin = [n for n in ADVANTAGES.names() if ":" not in n]  # FILE.py:FN plugins register once loaded
    assert builtin == ["drgrpo", "grpo", "reinforce_pp", "rloo", "stepgrpo"]


def test_grpo_divides_by_the_unbiased_group_std():
    # group 7: (1-1)/1, (2-1)/1, (0-1)/1; group 3: (0-0.5)/sqrt(0.5), (1-0.5)/sqrt(0.5)
    assert adv("grpo", eps=0.0) == pytest.approx([0.0, -0.5 / S, 1.0, 0.5 / S, -1.0], abs=1e-12)


def test_grpo_adds_eps_to_the_std():
    r = torch.tensor([0.0, 1.0], dtype=torch.float64)
    # std = sqrt(0.5) = 0.70711; 0.5 / (0.70711 + 0.5) = 0.414214
    assert adv("grpo", r, torch.tensor([0, 0]), eps=0.5) == pytest.approx([-0.414214, 0.414214], abs=1e-6)


def test_stepgrpo_is_grpo():
    assert ADVANTAGES.get("stepgrpo") is ADVANTAGES.get("grpo")


def test_drgrpo_subtracts_the_group_mean_only():
    assert adv("drgrpo") == pytest.approx([0.0, -0.5, 1.0, 0.5, -1.0], abs=1e-12)


def test_rloo_baseline_is_the_mean_of_the_other_responses():
    # group 7 (sum 3): 1 - (3-1)/2 = 0, 2 - (3-2)/2 = 1.5, 0 - 3/2 = -1.5
    # group 3 (sum 1): 0 - 1/1 = -1, 1 - 0/1 = 1
    assert adv("rloo") == pytest.approx([0.0, -1.0, 1.5, 1.0, -1.5], abs=1e-12)


def test_reinforce_pp_whitens_group_centred_rewards_over_the_batch():
    # a = r - mean_g = [0, -0.5, 1, 0.5, -1]; mean(a) = 0;
    # unbiased var = (0 + 0.25 + 1 + 0.25 + 1) / 4 = 0.625, std = 0.790569
    sd = math.sqrt(0.625)
    assert adv("reinforce_pp", eps=0.0) == pytest.approx([0.0, -0.5 / sd, 1 / sd, 0.5 / sd, -1 / sd], abs=1e-12)


def test_reinforce_pp_gives_a_constant_group_exactly_zero_beside_others():
    # float32: the batch mean of the centred rewards is a rounding residue, not 0
    r = torch.tensor([0.3, 0.3, 0.3, 0.1, 0.7, 0.2], dtype=torch.float32)
    a = compute_advantages("reinforce_pp", r, torch.tensor([0, 0, 0, 1, 1, 1]))
    assert a[:3].tolist() == [0.0, 0.0, 0.0] and a[3] < 0 < a[4]


@pytest.mark.parametrize("name", ["grpo", "drgrpo", "rloo", "reinforce_pp", "stepgrpo"])
def test_a_group_of_one_gets_zero(name):
    # response 2 is alone in group 5; the pair in group 1 is unaffected by it
    r = torch.tensor([0.0, 1.0, 5.0], dtype=torch.float64)
    a = adv(name, r, torch.tensor([1, 1, 5]))
    assert a[2] == 0.0 and a[0] < 0 < a[1]


@pytest.mark.parametrize("name", ["grpo", "drgrpo", "rloo", "reinforce_pp", "stepgrpo"])
def test_equal_rewards_give_exactly_zero(name):
    # float32: the mean of six 0.3s is 0.3 + 3e-8, a residue GRPO would divide by a std of 3e-8
    r = torch.full((6,), 0.3, dtype=torch.float32)
    a = compute_advantages(name, r, torch.zeros(6, dtype=torch.long), eps=0.0)
    assert a.tolist() == [0.0] * 6


@pytest.mark.parametrize("name", ["grpo", "drgrpo", "rloo", "reinforce_pp"])
def test_advantages_keep_shape_and_dtype(name):
    a = compute_advantages(name, REWARDS.float(), GROUP)
    assert a.shape == (5,) and a.dtype == torch.float32


def test_unknown_estimator_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown advantage estimator 'ppo'"):
        compute_advantages("ppo", REWARDS, GROUP)


def test_rewards_and_groups_must_match():
    with pytest.raises(ValueError, match="shape"):
        compute_advantages("grpo", REWARDS, GROUP[:4])


def test_reward_scalings_and_who_takes_them():
    from mmrl.rl.advantages import REWARD_SCALES, takes_scale

    assert REWARD_SCALES.names() == ["batch", "group", "none"]
    assert {n: takes_scale(n) for n in ("grpo", "drgrpo", "rloo", "stepgrpo", "reinforce_pp")} == \
        {"grpo": True, "drgrpo": True, "rloo": True, "stepgrpo": True, "reinforce_pp": False}


def test_reinforce_pp_refuses_a_scale_it_would_ignore():
    with pytest.raises(ConfigError, match="reinforce_pp"):
        adv("reinforce_pp", scale="batch")

