"""Per-token estimators of KL(pi || pi_ref) from the log-probabilities of the sampled tokens.

Each is ``fn(logp, ref_logp) -> Tensor`` of the same shape (R, T), with ``logp`` the current
policy's and ``ref_logp`` the reference policy's log-probability of each sampled token. They are
J. Schulman's estimators ("Approximating KL Divergence", 2020): with ``x = ref_logp - logp``,

- ``k1 = -x``: unbiased, high variance, negative on some tokens;
- ``k2 = x^2 / 2``: biased, low variance, never negative;
- ``k3 = exp(x) - x - 1``: unbiased and never negative; the estimator of GRPO and R1-VL
  (beta = 0.04); verl's ``low_var_kl`` is k3 with the result also clamped to [-10, 10].

Masking is the caller's (``losses.policy_loss`` aggregates them over response tokens).
Register your own with ``@KL_ESTIMATORS.register("name")``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mmrl.registry import Registry

KLFn = Callable[[Tensor, Tensor], Tensor]
KL_ESTIMATORS: Registry[KLFn] = Registry("KL estimator")

LOG_RATIO_CLAMP = 20.0
"""Log-ratios are clamped to [-20, 20] before ``exp`` (here in k3, and in the importance ratio of
``losses.clipped_surrogate``, as verl does): a -inf log-probability or a token one policy finds
vastly likelier than the other would otherwise give inf and NaN gradients. exp(20) ~ 5e8 is far
beyond any ratio a working run sees, so no real value changes."""


@KL_ESTIMATORS.register("k1")
def k1(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """``logp - ref_logp``: the plain log-ratio."""
    return logp - ref_logp


@KL_ESTIMATORS.register("k2")
def k2(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """``0.5 * (logp - ref_logp)^2``."""
    return 0.5 * (logp - ref_logp) ** 2


@KL_ESTIMATORS.register("k3")
def k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """``exp(ref - logp) - (ref - logp) - 1``, with the log-ratio clamped to [-20, 20] first."""
    x = torch.clamp(ref_logp - logp, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return torch.exp(x) - x - 1.0


def compute_kl(name: str, logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token KL by estimator ``name`` (a registered name or ``file.py:fn``)."""
    return KL_ESTIMATORS.get(name)(logp, ref_logp)


def kl_in_reward(name: str, logp: Tensor, ref_logp: Tensor, mask: Tensor, beta: float,
                 clamp: float | None = None) -> Tensor:
    """The KL penalty of each response, (R,): ``beta * sum_t kl_t`` over its masked tokens.

    REINFORCE++ (Hu 2025) and RLOO as Ahmadian et al. 2024 train it (the KL in the reward, not a
    loss term): verl's ``apply_kl_penalty`` subtracts ``beta * kl_t`` from each token's reward,
    and its outcome estimators sum the token rewards of a response, so a response's reward drops
    by this sum. ``logp`` are the rollout (old) policy's log-probs, as there; each token's
    estimate is clamped to ``[-clamp, clamp]`` when given (verl clamps k3 to 10). With k1 the sum
    is the sequence log-ratio ``log pi(y|x) - log pi_ref(y|x)`` of the published objective."""
    m = mask.bool()
    zero = torch.zeros_like(logp)
    kl = KL_ESTIMATORS.get(name)(torch.where(m, logp, zero), torch.where(m, ref_logp, zero))
    if clamp is not None:
        kl = kl.clamp(-clamp, clamp)
    return beta * torch.where(m, kl, zero).sum(-1)
