"""Learning-rate schedules against hand-computed values; which parameters are weight-decayed."""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.train.optim import SCHEDULES, build_optimizer, build_scheduler, param_groups, warmup_steps_for


def _curve(name, total=6, warmup=2, min_ratio=0.0):
    return [SCHEDULES.get(name)(s, total, warmup, min_ratio) for s in range(total)]


C1, C3 = 0.5 * (1 + math.cos(math.pi / 4)), 0.5 * (1 + math.cos(3 * math.pi / 4))


def test_cosine_warms_up_then_falls_without_spending_a_step_at_zero():
    assert _curve("cosine") == pytest.approx([0.5, 1.0, 1.0, C1, 0.5, C3])


def test_cosine_floor_is_min_ratio():
    assert _curve("cosine", min_ratio=0.2)[4] == pytest.approx(0.2 + 0.8 * 0.5)
    assert SCHEDULES.get("cosine")(10, 6, 2, 0.2) == pytest.approx(0.2)


def test_constant_and_linear():
    assert _curve("constant") == pytest.approx([0.5, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert _curve("linear") == pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])


def test_no_warmup_starts_at_the_peak():
    assert _curve("cosine", warmup=0)[0] == 1.0


def test_warmup_steps_round_up():
    assert warmup_steps_for(100, 0.03) == 3 and warmup_steps_for(10, 0.01) == 1 and warmup_steps_for(10, 0) == 0


def test_scheduler_drives_the_optimizer_lr():
    p = torch.nn.Parameter(torch.zeros(2, 2))
    opt = build_optimizer(param_groups([p], 0.0), lr=2.0)
    sched = build_scheduler(opt, "cosine", total_steps=6, warmup_steps=2)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1.0, 2.0, 2.0, 2 * C1, 1.0, 2 * C3])


def test_biases_and_norm_scales_are_not_decayed_and_frozen_weights_are_left_out():
    lin, norm, frozen = torch.nn.Linear(3, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 3)
    frozen.requires_grad_(False)
    groups = param_groups([*lin.parameters(), *norm.parameters(), *frozen.parameters()], 0.1)
    assert [len(g["params"]) for g in groups] == [1, 3]
    assert groups[0]["params"][0] is lin.weight and groups[0]["weight_decay"] == 0.1
    assert groups[1]["weight_decay"] == 0.0


def test_nothing_trainable_is_an_error():
    p = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
    with pytest.raises(ConfigError, match="frozen"):
        param_groups([p], 0.0)
