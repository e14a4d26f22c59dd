"""``mmrl.recipes.mechanisms``: a recipe's mechanism counts as acting only on the values that show it,
never on a key being present (a step logs ``updates: 1`` when every advantage is 0)."""
from __future__ import annotations

from mmrl.recipes.mechanisms import sources_rewarded, unmet

MOVING = {"advantage/mean_abs": 0.4, "updates": 1}
STILL = {"advantage/mean_abs": 0.0, "updates": 1}
STD = "a step with reward std > 0 (advantage/mean_abs > 0)"


def test_a_run_whose_advantages_are_all_zero_fails_even_with_updates():
    assert unmet("mm_eureka", [{**STILL, "updates": 2, "filter/kept_frac": 0.5}]) == [STD]


def test_no_step_at_all_is_a_failure():
    assert unmet("glm41v_rlcs", []) == ["no grpo step in metrics.jsonl"]


def test_r1vl_needs_one_step_with_both_step_rewards_positive():
    apart = [{**MOVING, "kl": 0.0, "step_rar/mean": 0.1, "step_rvr/mean": 0.0},
             {**MOVING, "kl": 0.0, "step_rar/mean": 0.0, "step_rvr/mean": 0.2}]
    together = [{**MOVING, "kl": 0.0, "step_rar/mean": 0.1, "step_rvr/mean": 0.2}]
    assert unmet("r1vl_stepgrpo", apart) == ["a step with step_rar/mean > 0 and step_rvr/mean > 0"]
    assert unmet("r1vl_stepgrpo", together) == []


def test_r1vl_needs_the_kl_logged():
    assert unmet("r1vl_stepgrpo", [{**MOVING, "step_rar/mean": 0.1, "step_rvr/mean": 0.2}]) == ["kl logged"]


def test_vtriune_counts_only_sources_with_a_non_zero_reward():
    rows = [{**MOVING, "iou_threshold": 0.85, "reward/mean": 0.3, "reward/synth/locate/mean": 0.0,
             "reward/synth/equation/mean": 0.09},
            {**MOVING, "iou_threshold": 0.85, "reward/synth/sequence/mean": 0.0}]
    assert sources_rewarded(rows) == {"synth/equation"}
    assert unmet("vtriune", rows) == ["a non-zero reward in 2 or more sources"]


def test_vtriune_passes_with_two_rewarded_sources_over_the_run():
    rows = [{**MOVING, "iou_threshold": 0.85, "reward/synth/locate/mean": 0.2},
            {**STILL, "iou_threshold": 0.85, "reward/synth/equation/mean": 0.09}]
    assert unmet("vtriune", rows) == []


def test_vtriune_needs_a_threshold_in_force():
    rows = [{**MOVING, "iou_threshold": 0.0, "reward/synth/locate/mean": 0.2, "reward/synth/equation/mean": 0.1}]
    assert unmet("vtriune", rows) == ["iou_threshold logged and > 0"]


def test_mm_eureka_needs_two_updates_in_every_step():
    rows = [{**MOVING, "updates": 2, "filter/kept_frac": 0.5}, {**MOVING, "updates": 1, "filter/kept_frac": 0.5}]
    assert unmet("mm_eureka", rows) == ["2 updates in every step"]


def test_glm_needs_forced_answering_to_fire():
    base = {**MOVING, "oversample_expansion": 1.0, "curriculum/weight_mean": 0.5}
    assert unmet("glm41v_rlcs", [{**base, "forced_frac": 0.0}]) == ["a step with forced_frac > 0 (forced answering)"]
    assert unmet("glm41v_rlcs", [{**base, "forced_frac": 0.25}]) == []


def test_a_recipe_without_checks_of_its_own_gets_the_common_one():
    assert unmet("my_recipe", [MOVING]) == []
