"""--algo fills only what the user left unset; bad settings fail before anything loads."""
from __future__ import annotations

import pytest

from mmrl.errors import ConfigError
from mmrl.rl.config import ALGORITHMS, GRPOConfig


def cfg(**kw):
    return GRPOConfig.from_flags(model="m", data="d", out="o", **kw)


def test_dapo_brings_clip_higher_dynamic_sampling_and_token_mean():
    c = cfg(algo="dapo")
    assert (c.loss.clip_low, c.loss.clip_high, c.selection.group_filter, c.loss.loss_agg, c.loss.beta) == (0.2, 0.28, "nonconstant", "token-mean", 0.0)


def test_an_explicit_setting_beats_the_algorithm_default():
    c = cfg(algo="dapo", clip_high=0.3, group_filter="none")
    assert (c.loss.clip_high, c.selection.group_filter) == (0.3, "none")


def test_rloo_uses_the_leave_one_out_estimator_without_kl():
    c = cfg(algo="rloo")
    assert (c.loss.advantage, c.loss.beta) == ("rloo", 0.0)


def test_drgrpo_normalises_by_a_constant_length():
    assert cfg(algo="drgrpo").loss.loss_agg == "seq-mean-token-sum-norm"


def test_stepgrpo_scores_step_rewards_in_groups_of_four():
    c = cfg(algo="stepgrpo")
    assert (c.sampling.n, c.sampling.temperature, c.reward.verifier, c.reward.weights) == (4, 1.2, "steprar", {"step_rar": 1.0, "step_rvr": 1.0})


def test_every_algorithm_resolves_to_known_settings():
    for algo in ALGORITHMS:
        c = cfg(algo=algo)
        assert c.loss.advantage and c.loss.loss_agg and c.sampling.n and c.sampling.temperature


def test_unknown_algorithm_names_the_known_ones():
    with pytest.raises(ConfigError, match="dapo"):
        cfg(algo="ppo2")


@pytest.mark.parametrize("kw, flag", [
    ({"loss_agg": "sum"}, "--loss-agg"), ({"dual_clip": 0.5}, "--dual-clip"), ({"mini_batch_size": 9}, "--mini-batch-size"),
    ({"accuracy_band": "0.9:0.1"}, "--accuracy-band"), ({"eval_steps": 5}, "--eval-steps"), ({"temperature": 0.0}, "--temperature"),
])
def test_bad_settings_name_their_flag(kw, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**kw)


def test_gspo_brings_the_sequence_ratio_its_own_clip_and_the_sequence_mean():
    c = cfg(algo="gspo")
    assert (c.loss.importance_sampling_level, c.loss.clip_low, c.loss.clip_high, c.loss.loss_agg, c.loss.beta,
            c.loss.advantage) == ("sequence", 3e-4, 4e-4, "seq-mean-token-mean", 0.0, "grpo")


def test_every_other_algorithm_keeps_the_token_ratio():
    assert {algo: cfg(algo=algo).loss.importance_sampling_level for algo in ALGORITHMS if algo != "gspo"} == \
        {algo: "token" for algo in ALGORITHMS if algo != "gspo"}


def test_reward_scaling_defaults_to_each_estimators_own():
    assert all(cfg(algo=algo).loss.scale_rewards is None for algo in ALGORITHMS)


@pytest.mark.parametrize("kw, match", [
    ({"importance_sampling_level": "seq"}, "--importance-sampling-level"),
    ({"scale_rewards": "batches"}, "--scale-rewards"),
    ({"advantage": "reinforce_pp", "scale_rewards": "batch"}, "reinforce_pp"),
    ({"kl_in_reward": True, "beta": 0.0}, "--kl-in-reward needs --beta"),
    ({"monitor_kl": "sometimes"}, "--monitor-kl"),
])
def test_bad_new_settings_fail_before_anything_loads(kw, match):
    with pytest.raises(ConfigError, match=match):
        cfg(**kw)


@pytest.mark.parametrize("kw, needed", [
    ({"beta": 0.0}, False),                               # full weights, nothing trained on the KL: no copy
    ({"beta": 0.0, "lora": True}, True),                  # the base model with adapters off costs no weights
    ({"beta": 0.0, "lora": True, "monitor_kl": "never"}, False),
    ({"beta": 0.0, "monitor_kl": "always"}, True),
    ({"beta": 0.04}, True),
    ({"beta": 0.04, "monitor_kl": "never"}, True),         # the loss needs it whatever the monitor says
])
def test_the_reference_is_loaded_when_a_kl_is_trained_or_monitored(kw, needed):
    assert cfg(**kw).needs_reference is needed
