"""AdamW and learning-rate schedules with linear warm-up.

A schedule is a pure function ``(step, total_steps, warmup_steps, min_ratio) -> multiplier`` of
the peak learning rate, registered by name in ``SCHEDULES`` (add your own with
``@SCHEDULES.register("name")`` or ``--scheduler file.py:fn``). ``step`` counts optimizer
updates from 0. Warm-up rises linearly so that the first update already moves (``1/warmup`` of
the peak, not 0) and update ``warmup_steps - 1`` uses the peak; the decay then starts from the
peak and would reach its floor one step after the last, so no update is spent at zero.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from mmrl.errors import ConfigError
from mmrl.registry import Registry

Schedule = Callable[[int, int, int, float], float]
SCHEDULES: Registry[Schedule] = Registry("learning-rate schedule")

def with_warmup(decay: Callable[[float], float]) -> Schedule:
    """A schedule: linear warm-up, then ``min_ratio + (1 - min_ratio) * decay(progress)``.

    ``progress`` runs from 0 at the first update after warm-up towards 1 one update past the last.
    """

    def schedule(step: int, total_steps: int, warmup_steps: int, min_ratio: float = 0.0) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1.0 - min_ratio) * decay(progress)

    return schedule


constant = SCHEDULES.register("constant")(with_warmup(lambda p: 1.0))
cosine = SCHEDULES.register("cosine")(with_warmup(lambda p: 0.5 * (1.0 + math.cos(math.pi * p))))
linear = SCHEDULES.register("linear")(with_warmup(lambda p: 1.0 - p))


def warmup_steps_for(total_steps: int, warmup_ratio: float) -> int:
    """Warm-up updates for a ratio of the run (rounded up, so a non-zero ratio warms up at least once)."""
    return math.ceil(total_steps * warmup_ratio)


def param_groups(parameters: Iterable, weight_decay: float) -> list[dict]:
    """Trainable parameters split into decayed (matrices) and not decayed (biases, norm scales)."""
    decay, no_decay = [], []
    for p in parameters:
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ConfigError("nothing to train: every parameter is frozen")
    return groups


def build_optimizer(groups: list[dict], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
    """torch AdamW over parameter groups (the one DeepSpeed uses too, with ``torch_adam``)."""
    import torch

    return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), eps=eps)


def build_scheduler(optimizer, name: str, total_steps: int, warmup_steps: int, min_ratio: float = 0.0):
    """A LambdaLR stepping the named schedule once per optimizer update."""
    import torch

    fn = SCHEDULES.get(name)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: fn(step, total_steps, warmup_steps, min_ratio)
    )
