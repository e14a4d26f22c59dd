"""metrics.jsonl shows each paper's mechanism per step: component means, the IoU threshold in force,
the curriculum's state and the filters' kept shares."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from mmrl.rl.monitor import component_means, mechanism_metrics
from mmrl.rl.prompt_sampling import CurriculumSampler, UniformSampler


def record(verifier="iou", params=None, **rewards):
    return {"id": "a", "response": "r", "reward": {"verifier": verifier, "params": params or {}},
            "rewards": {"accuracy": 0.0, "total": 0.0, **rewards}}


def collected(records, drawn=4, valid=3):
    return SimpleNamespace(all_groups=[SimpleNamespace(records=records)], drawn=drawn, valid=valid)


def test_every_component_has_its_mean_over_the_records_that_report_it():
    rows = [record(format=1.0, step_rar=1.1, step_rvr=1.0), record(format=0.0, step_rar=0.1, step_rvr=0.0),
            record(format=1.0, iou=0.5)]
    means = component_means(rows)
    assert means == {"format/mean": pytest.approx(2 / 3), "step_rar/mean": pytest.approx(0.6),
                     "step_rvr/mean": 0.5, "iou/mean": 0.5}


def test_the_dynamic_iou_threshold_in_force_is_reported(rl_config):
    cfg = rl_config(param=["iou_threshold=dynamic"], reward_spec="merge", max_steps=10)
    rows = [record(params={"iou_threshold": 0.5}), record(verifier="math")]
    assert mechanism_metrics(cfg, UniformSampler(4), collected(rows), 0, 4)["iou_threshold"] == 0.85
    assert mechanism_metrics(cfg, UniformSampler(4), collected(rows), 5, 4)["iou_threshold"] == 0.99


def test_a_sample_own_threshold_shows_where_it_wins(rl_config):
    cfg = rl_config(param=["iou_threshold=dynamic"], reward_spec="sample")
    rows = [record(params={"iou_threshold": 0.5})]
    assert mechanism_metrics(cfg, UniformSampler(4), collected(rows), 0, 4)["iou_threshold"] == 0.5


def test_curriculum_weights_and_pass_rates(rl_config):
    sampler = CurriculumSampler([0.0, 0.5, None, 1.0])  # pass rates 1, 0.5, 0.5, 0
    out = mechanism_metrics(rl_config(sampler="curriculum"), sampler, collected([]), 0, 4)
    assert out["curriculum/pass_rate_mean"] == 0.5
    assert out["curriculum/weight_mean"] == pytest.approx((0.05 + 1 + 1 + 0.05) / 4)


def test_the_filters_kept_shares(rl_config):
    kept = SimpleNamespace(keep=[0, 2, 3], inner=UniformSampler(3))
    out = mechanism_metrics(rl_config(difficulty_band="0.01:0.99", group_filter="nonconstant"), kept,
                            collected([], drawn=4, valid=3), 0, 4)
    assert out["filter/kept_frac"] == 0.75 and out["filter/group_kept_frac"] == 0.75


def test_no_mechanism_no_metric(rl_config):
    assert mechanism_metrics(rl_config(), UniformSampler(4), collected([record(verifier="math")]), 0, 4) == {}
