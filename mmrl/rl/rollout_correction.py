"""Correction for the rollout engine's log-probs differing from the trainer's: per-token
importance weights ``w = pi_trainer(y_t) / pi_rollout(y_t)``, bounded.

The responses are drawn by an engine (vLLM in bf16, other kernels, top-p renormalisation) whose
token probabilities differ from those the trainer computes for the same weights; the policy
gradient then uses samples from a distribution that is not the one it differentiates. Weighting
each token's policy loss by the ratio of the two makes it on-policy again; bounding the weight
keeps its variance finite (truncated importance sampling, Yao et al. 2025, "Your efficient RL
framework secretly brings you off-policy RL training"):

* ``truncate`` (TIS): ``w = min(rho, cap)`` (TRL's ``vllm_importance_sampling_mode=token_truncate``
  with ``vllm_importance_sampling_clip_max``; verl's ``rollout_is_mode: truncate``, upper bound only);
* ``mask`` (MIS): ``w = rho`` inside ``[1/cap, cap]`` and 0 outside (verl's ``rollout_is_mode: mask``
  with its reciprocal lower bound; TRL's ``token_mask`` sets those tokens' weight to 0 the same
  way; verl instead drops them from the loss's denominator).

``rho = exp(old_logp - rollout_logp)``, where ``old_logp`` is the trainer's log-prob under the
weights that sampled (the old policy) and ``rollout_logp`` the engine's; the weight carries no
gradient. Pure tensor functions.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mmrl.registry import Registry
from mmrl.rl.kl import LOG_RATIO_CLAMP
from mmrl.rl.losses import masked_mean

BoundFn = Callable[[Tensor, float], tuple[Tensor, Tensor]]
ROLLOUT_IS: Registry[BoundFn] = Registry("rollout importance sampling mode")
"""Bound the ratios: ``fn(rho, cap) -> (weights, cut)``, ``cut`` True where a ratio was changed
(``--rollout-is``; ``none`` applies no weight)."""


@ROLLOUT_IS.register("truncate")
def truncate(rho: Tensor, cap: float) -> tuple[Tensor, Tensor]:
    """``min(rho, cap)``: a token the engine under-sampled weighs at most ``cap``."""
    return rho.clamp(max=cap), rho > cap


@ROLLOUT_IS.register("mask")
def mask_outside(rho: Tensor, cap: float) -> tuple[Tensor, Tensor]:
    """``rho`` inside ``[1/cap, cap]``, 0 outside: tokens the two disagree on carry no loss."""
    cut = (rho > cap) | (rho < 1.0 / cap)
    return torch.where(cut, torch.zeros_like(rho), rho), cut


def rollout_is_weights(old_logp: Tensor, rollout_logp: Tensor, mask: Tensor, mode: str,
                       cap: float) -> tuple[Tensor, dict[str, float]]:
    """Per-token weights (R, T) of the policy loss, 1 outside ``mask``, and their statistics over
    the masked tokens: ``rollout_is/mean`` (the applied weight), ``rollout_is/clipped_frac``
    (share truncated or masked) and ``rollout_is/logprob_gap`` (mean ``|old_logp - rollout_logp|``,
    TRL's ``sampling_logp_difference/mean``)."""
    m = mask.bool()
    zero = torch.zeros_like(old_logp)
    diff = torch.where(m, old_logp.detach().float() - rollout_logp.float(), zero.float())
    rho = torch.exp(diff.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    weights, cut = ROLLOUT_IS.get(mode)(rho, cap)
    weights = torch.where(m, weights, torch.ones_like(weights)).to(old_logp.dtype)
    stats = {"rollout_is/mean": float(masked_mean(weights, m)),
             "rollout_is/clipped_frac": float(masked_mean(cut.float(), m)),
             "rollout_is/logprob_gap": float(masked_mean(diff.abs(), m))}
    return weights, stats
