"""Group-relative advantage estimators: one scalar advantage per response from the group's rewards.

Every estimator is ``fn(rewards, group, *, eps=1e-6) -> advantages``: ``rewards`` is a float
tensor of shape (R,), ``group`` a long tensor of shape (R,) giving each response's group (its
prompt). Groups need not be contiguous and may differ in size. The trainer broadcasts each
response's advantage over its tokens. Register your own with ``@ADVANTAGES.register("name")`` or
name ``file.py:fn`` in a recipe.

A group whose rewards are all equal (a group of one included) carries no learning signal: every
estimator gives its responses exactly 0, never NaN and never a rounding residue divided by eps.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mmrl.registry import Registry

AdvantageFn = Callable[..., Tensor]
ADVANTAGES: Registry[AdvantageFn] = Registry("advantage estimator")


class _Groups:
    """Per-group sums and counts of a batch of rewards, gathered back to each response."""

    def __init__(self, rewards: Tensor, group: Tensor):
        if rewards.dim() != 1 or group.shape != rewards.shape:
            raise ValueError(f"rewards and group must both have shape (R,), got {tuple(rewards.shape)} "
                             f"and {tuple(group.shape)}")
        _, inv = torch.unique(group, return_inverse=True)
        self.n = n = int(inv.max()) + 1 if inv.numel() else 0
        self.inv = inv
        self.rewards = rewards
        count = torch.zeros(n, dtype=rewards.dtype, device=rewards.device).index_add_(0, inv, torch.ones_like(rewards))
        total = torch.zeros(n, dtype=rewards.dtype, device=rewards.device).index_add_(0, inv, rewards)
        hi = torch.full((n,), -torch.inf, dtype=rewards.dtype, device=rewards.device)
        lo = torch.full((n,), torch.inf, dtype=rewards.dtype, device=rewards.device)
        hi = hi.scatter_reduce(0, inv, rewards, reduce="amax")
        lo = lo.scatter_reduce(0, inv, rewards, reduce="amin")
        self.count = count[inv]
        self.sum = total[inv]
        self.mean = self.sum / self.count
        # all rewards of the group equal (size 1 included): the advantage is 0 by definition
        self.constant = (hi == lo)[inv]

    def std(self) -> Tensor:
        """Unbiased (Bessel-corrected) std of each response's group, as ``torch.std``; 0 for size 1."""
        sq = (self.rewards - self.mean) ** 2
        ss = torch.zeros(self.n, dtype=sq.dtype, device=sq.device).index_add_(0, self.inv, sq)[self.inv]
        return torch.sqrt(ss / (self.count - 1).clamp(min=1))

    def zero_constant(self, adv: Tensor) -> Tensor:
        return torch.where(self.constant, torch.zeros_like(adv), adv)

    def scaled(self, centred: Tensor, scale: str, eps: float) -> Tensor:
        """``centred`` divided as the reward scaling ``scale`` says, constant groups exactly 0."""
        return self.zero_constant(REWARD_SCALES.get(scale)(centred, self, eps))


ScaleFn = Callable[[Tensor, _Groups, float], Tensor]
REWARD_SCALES: Registry[ScaleFn] = Registry("reward scaling")
"""``--scale-rewards`` (TRL's ``scale_rewards``): ``fn(centred, groups, eps)`` divides the centred
rewards of an estimator that takes a ``scale``."""


@REWARD_SCALES.register("group")
def group_scale(centred: Tensor, g: _Groups, eps: float) -> Tensor:
    """By the unbiased std of the response's group, plus ``eps`` (GRPO)."""
    return centred / (g.std() + eps)


@REWARD_SCALES.register("batch")
def batch_scale(centred: Tensor, g: _Groups, eps: float) -> Tensor:
    """By the unbiased std of every reward of the batch, plus ``eps`` (TRL's ``scale_rewards="batch"``;
    Liu et al. 2025, "Part I: Tricks or Traps?", arXiv 2508.08221: group mean, batch std). The std
    of a single reward is 0."""
    std = g.rewards.std() if g.rewards.numel() > 1 else g.rewards.new_zeros(())
    return centred / (std + eps)


@REWARD_SCALES.register("none")
def no_scale(centred: Tensor, g: _Groups, eps: float) -> Tensor:
    """Not at all (Dr.GRPO; verl's ``norm_adv_by_std_in_grpo=False``)."""
    return centred


@ADVANTAGES.register("grpo")
def grpo(rewards: Tensor, group: Tensor, *, eps: float = 1e-6, scale: str = "group") -> Tensor:
    """GRPO (Shao et al. 2024, DeepSeekMath): ``(r - mean_g) / (std_g + eps)``.

    ``std_g`` is the unbiased std of the group, as in verl and TRL (``torch.std``). ``scale``
    replaces the divisor (``--scale-rewards``: a name in ``REWARD_SCALES``).
    """
    g = _Groups(rewards, group)
    return g.scaled(rewards - g.mean, scale, eps)


# StepGRPO (R1-VL, Zhang et al. 2025) is GRPO on step-wise rewards: the verifiers give the total
# r_StepRAR + r_StepRVR as the reward, and the advantage is GRPO's.
ADVANTAGES.add("stepgrpo", grpo)


@ADVANTAGES.register("drgrpo")
def drgrpo(rewards: Tensor, group: Tensor, *, eps: float = 1e-6, scale: str = "none") -> Tensor:
    """Dr.GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training"): ``r - mean_g``, no std.

    Dividing by the group std up-weights groups whose rewards barely differ (too easy or too
    hard prompts); Dr.GRPO drops it: GRPO with ``scale="none"`` (verl's
    ``norm_adv_by_std_in_grpo=False``, TRL's ``scale_rewards="none"``). ``eps`` is used only
    with another ``scale``.
    """
    return grpo(rewards, group, eps=eps, scale=scale)


@ADVANTAGES.register("rloo")
def rloo(rewards: Tensor, group: Tensor, *, eps: float = 1e-6, scale: str = "none") -> Tensor:
    """RLOO (Ahmadian et al. 2024; MM-Eureka's estimator): ``r_i - (sum_g - r_i) / (G - 1)``.

    The baseline of each response is the mean reward of the other G - 1 responses of its group,
    so it does not depend on the response itself. A group of one has no baseline: advantage 0.
    Unscaled as published; ``scale`` (``--scale-rewards``) divides it by a group or batch std.
    """
    g = _Groups(rewards, group)
    return g.scaled(rewards - (g.sum - rewards) / (g.count - 1).clamp(min=1), scale, eps)


@ADVANTAGES.register("reinforce_pp")
def reinforce_pp(rewards: Tensor, group: Tensor, *, eps: float = 1e-6) -> Tensor:
    """REINFORCE++-baseline (Hu 2025, arXiv 2501.03262; verl ``reinforce_plus_plus_baseline``).

    ``a = r - mean_g``, then whitened over the whole batch: ``(a - mean(a)) / (std(a) + eps)``
    with the unbiased std. Unlike verl, which whitens over tokens (longer responses weigh more),
    this whitens over responses: the estimator sees no lengths. A batch whose centred rewards
    are all equal (every group constant, or one response) gives 0.
    """
    a = drgrpo(rewards, group)
    if a.numel() < 2 or bool(a.max() == a.min()):
        return torch.zeros_like(a)
    # a response at its group's mean (every one of a constant group) carries no signal: exactly 0,
    # not the rounding residue of the batch mean divided by the std
    return torch.where(a == 0, torch.zeros_like(a), (a - a.mean()) / (a.std() + eps))


def takes_scale(name: str) -> bool:
    """Whether estimator ``name`` takes a ``scale`` (``--scale-rewards``): it centres rewards and
    leaves the divisor open. reinforce_pp whitens over the batch itself and takes none."""
    import inspect

    return "scale" in inspect.signature(ADVANTAGES.get(name)).parameters


def check_scale(name: str, scale: str) -> None:
    """Refuse ``--scale-rewards`` for an estimator that takes no scale, naming those that do."""
    from mmrl.errors import ConfigError

    if not takes_scale(name):
        takers = ", ".join(n for n in ADVANTAGES.names() if takes_scale(n))
        raise ConfigError(f"--scale-rewards {scale} does not apply to advantage estimator {name!r}: it takes "
                          f"no scale (estimators that do: {takers})")


def compute_advantages(name: str, rewards: Tensor, group: Tensor, *, scale: str | None = None, **kw) -> Tensor:
    """The advantages of estimator ``name`` (a registered name or ``file.py:fn``), checked: one per
    response (a user's estimator of the wrong shape would otherwise fail deep inside the loss).
    ``scale`` (group, batch or none) replaces the estimator's own divisor; None keeps it."""
    from mmrl.errors import ConfigError

    if scale is not None:
        check_scale(name, scale)
        kw["scale"] = scale
    out = ADVANTAGES.get(name)(rewards, group, **kw)
    if not isinstance(out, Tensor) or out.shape != rewards.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ConfigError(f"advantage estimator {name!r} returned {got} for {tuple(rewards.shape)} rewards; "
                          "it must return one advantage per response")
    return out
