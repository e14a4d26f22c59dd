"""The policy-gradient loss of one step, from its parts: surrogate, KL term, entropy, aggregation.

Shapes: R responses of T tokens. ``logp``/``old_logp``/``ref_logp`` are the log-probabilities of
the sampled tokens under the current, rollout ("old") and reference policies, (R, T); ``mask`` is
1 on response tokens that enter the loss and 0 elsewhere (binary: bool, int or float);
advantages are one per response (R,) or one per token (R, T).

``policy_loss`` is the whole GRPO-family loss in one short function; the pieces it composes
(``clipped_surrogate``, ``aggregate``, ``masked_mean``; ``entropy_from_logits`` from
``mmrl.model.logprobs``) are here for
trainers that need them apart. Positions outside the mask never reach a value or a gradient, so
padding may hold any log-probability, even -inf.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mmrl.errors import ConfigError
from mmrl.model.logprobs import entropy_from_logits  # noqa: F401 - one of the loss's parts, kept importable here
from mmrl.registry import Registry
from mmrl.rl.kl import KL_ESTIMATORS, LOG_RATIO_CLAMP


def masked_mean(x: Tensor, mask: Tensor, dim: int | None = None) -> Tensor:
    """Mean of ``x`` where ``mask`` is set (over all elements, or along ``dim``); 0 where none is."""
    m = mask.bool()
    total = torch.where(m, x, torch.zeros_like(x))
    if dim is None:
        return total.sum() / m.sum().clamp(min=1)
    return total.sum(dim) / m.sum(dim).clamp(min=1)


ImportanceFn = Callable[[Tensor, Tensor, Tensor], Tensor]
IMPORTANCE_LEVELS: Registry[ImportanceFn] = Registry("importance sampling level")
"""The log importance ratio of each token: ``fn(logp, old_logp, mask) -> (R, T)``, 0 outside the mask."""


@IMPORTANCE_LEVELS.register("token")
def token_log_ratio(logp: Tensor, old_logp: Tensor, mask: Tensor) -> Tensor:
    """PPO / GRPO: ``log rho_t = logp_t - old_logp_t``, one ratio per token."""
    m = mask.bool()
    return torch.where(m, logp - old_logp, torch.zeros_like(logp))


@IMPORTANCE_LEVELS.register("sequence")
def sequence_log_ratio(logp: Tensor, old_logp: Tensor, mask: Tensor) -> Tensor:
    """GSPO (Zheng et al. 2025, arXiv 2507.18071): the length-normalised sequence ratio
    ``s_i = exp(mean_t (logp - old_logp))`` on every token of response i.

    As verl's ``compute_policy_loss_gspo`` writes it (GSPO-token with equal token advantages):
    ``log s_i,t = sg[log s_i] + logp_t - sg[logp_t]``. Its value is ``log s_i`` on every token
    and its gradient is that of ``logp_t``, so a sequence-mean of the per-token surrogate has the
    gradient of GSPO's sequence objective, ``s_i * mean_t grad logp_t`` (TRL's ``(B, 1)`` ratio
    gives the same). A row without tokens has ratio 1."""
    m = mask.bool()
    token = torch.where(m, logp - old_logp, torch.zeros_like(logp))
    seq = token.sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1)
    return torch.where(m, logp - logp.detach() + seq.detach(), torch.zeros_like(logp))


def clipped_surrogate(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor,
                      clip_low: float = 0.2, clip_high: float = 0.2,
                      dual_clip: float | None = None, level: str = "token") -> tuple[Tensor, dict[str, Tensor]]:
    """PPO's clipped surrogate per token: ``-min(rho*A, clip(rho, 1-clip_low, 1+clip_high)*A)``.

    ``rho = exp(logp - old_logp)`` (Schulman et al. 2017) at ``level`` "token"; at "sequence"
    GSPO's length-normalised sequence ratio (``IMPORTANCE_LEVELS``). The log-ratio is clamped to
    [-20, 20] first, as in verl (``kl.LOG_RATIO_CLAMP``). ``clip_high > clip_low`` is DAPO's
    clip-higher (V-Triune: 0.2 / 0.28; GLM-4.1V). ``dual_clip`` (Ye et al. 2020, "Mastering
    Complex Control in MOBA Games"; verl's ``clip_ratio_c``), a constant > 1: for A < 0 the loss
    is also capped at ``-dual_clip * A``, so a token whose ratio has grown huge cannot push an
    unbounded step.

    Returns the per-token loss (0 outside the mask) and detached scalar statistics over the
    masked tokens: ``clip_frac`` (share of tokens where the clipped branch is the active one,
    verl's ``pg_clipfrac``), split into ``clip_frac_high`` (rho above 1 + clip_high, A > 0) and
    ``clip_frac_low`` (rho below 1 - clip_low, A < 0); ``dual_clip_frac`` (share capped by the
    dual clip; 0 without it); ``approx_kl`` (mean of ``old_logp - logp`` over tokens, verl's
    ``ppo_kl``, at either level); ``ratio_mean`` (of the ratio the clip sees).
    """
    if dual_clip is not None and dual_clip <= 1.0:
        raise ConfigError(f"dual_clip must be greater than 1, got {dual_clip}")
    m = mask.bool()
    adv = advantages.unsqueeze(-1) if advantages.dim() == 1 else advantages
    adv = adv.expand_as(logp)
    # Log-ratio 0 outside the mask: no value and no gradient comes from padding.
    per_token = token_log_ratio(logp, old_logp, m)
    log_ratio = IMPORTANCE_LEVELS.get(level)(logp, old_logp, m).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    ratio = torch.exp(log_ratio)
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    clip_active = clipped > unclipped
    if dual_clip is not None:
        cap = -adv * dual_clip
        dual_active = (adv < 0) & (loss > cap)
        loss = torch.where(dual_active, cap, loss)
    else:
        dual_active = torch.zeros_like(m)
    loss = torch.where(m, loss, torch.zeros_like(loss))

    def frac(flag: Tensor) -> Tensor:
        return masked_mean(flag.to(logp.dtype), m).detach()

    stats = {
        "clip_frac": frac(clip_active),
        "clip_frac_high": frac(clip_active & (ratio > 1.0)),
        "clip_frac_low": frac(clip_active & (ratio < 1.0)),
        "dual_clip_frac": frac(dual_active),
        "approx_kl": masked_mean(-per_token, m).detach(),  # per token at either level, as verl's ppo_kl
        "ratio_mean": masked_mean(ratio, m).detach(),
    }
    return loss, stats


AggregationFn = Callable[..., Tensor]
AGGREGATIONS: Registry[AggregationFn] = Registry("loss aggregation")
"""Reduce a per-token loss (R, T) to a scalar: ``fn(per_token, mask, *, norm, max_len)``.

``norm`` replaces the denominator that makes the mean (tokens or sequences), so a trainer that
splits a mini-batch into micro-batches passes the whole mini-batch's count and the sum of the
micro-batch losses is the mini-batch loss: the same gradient as one big batch. A "sequence" in
the sequence means is a row with at least one masked token (an all-padding row counts for
nothing, as in verl); a row without tokens never gives NaN.
"""


def _seq_count(m: Tensor, norm: float | None) -> Tensor | float:
    return norm if norm is not None else m.any(dim=-1).sum().clamp(min=1)


@AGGREGATIONS.register("token-mean")
def token_mean(per_token: Tensor, mask: Tensor, *, norm: float | None = None,
               max_len: int | None = None) -> Tensor:
    """``sum(loss * mask) / sum(mask)``: every token weighs the same (DAPO, V-Triune)."""
    m = mask.bool()
    total = torch.where(m, per_token, torch.zeros_like(per_token)).sum()
    return total / (norm if norm is not None else m.sum().clamp(min=1))


@AGGREGATIONS.register("seq-mean-token-mean")
def seq_mean_token_mean(per_token: Tensor, mask: Tensor, *, norm: float | None = None,
                        max_len: int | None = None) -> Tensor:
    """Mean over sequences of each sequence's token mean: every response weighs the same (GRPO)."""
    m = mask.bool()
    return masked_mean(per_token, m, dim=-1).sum() / _seq_count(m, norm)


@AGGREGATIONS.register("seq-mean-token-sum-norm")
def seq_mean_token_sum_norm(per_token: Tensor, mask: Tensor, *, norm: float | None = None,
                            max_len: int | None = None) -> Tensor:
    """Dr.GRPO (Liu et al. 2025): each sequence's token sum over a constant ``max_len``, mean over
    sequences. A constant divisor removes GRPO's per-response length bias."""
    if max_len is None or max_len <= 0:
        raise ConfigError("loss aggregation seq-mean-token-sum-norm needs max_len > 0")
    m = mask.bool()
    seq = torch.where(m, per_token, torch.zeros_like(per_token)).sum(dim=-1) / max_len
    return seq.sum() / _seq_count(m, norm)


def aggregate(per_token: Tensor, mask: Tensor, mode: str, *, norm: float | None = None,
              max_len: int | None = None) -> Tensor:
    """A scalar from a per-token tensor by aggregation ``mode`` (see ``AGGREGATIONS``)."""
    return AGGREGATIONS.get(mode)(per_token, mask, norm=norm, max_len=max_len)


def policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, *,
                clip_low: float, clip_high: float, dual_clip: float | None = None, level: str = "token",
                loss_agg: str = "token-mean", max_len: int | None = None, norm: float | None = None,
                ref_logp: Tensor | None = None, beta: float = 0.0, kl_estimator: str = "k3",
                kl_clamp: float | None = None, entropy: Tensor | None = None,
                entropy_coef: float = 0.0) -> tuple[Tensor, dict[str, float]]:
    """The loss of one (micro-)batch: ``agg(pg + beta * kl) - entropy_coef * agg(entropy)``.

    ``pg`` is the clipped surrogate per token (its ratio per token or, ``level="sequence"``,
    GSPO's per sequence); ``kl`` the per-token KL estimate against the
    reference policy, a loss term as in GRPO (R1-VL: k3, beta 0.04; GLM-4.1V, V-Triune and
    MM-Eureka use none), clamped to ``[-kl_clamp, kl_clamp]`` when given (verl's ``low_var_kl``
    is k3 clamped to 10: a token far from the reference then adds no gradient, not thousands); ``entropy`` a per-token entropy the caller computed (e.g. with
    ``entropy_from_logits``). Both sums are aggregated the same way (``loss_agg``, ``norm``,
    ``max_len``: see ``aggregate``).

    Statistics, as floats: ``loss``, ``pg_loss`` (the aggregated surrogate), ``kl`` and
    ``entropy`` (masked means; 0.0 when ``ref_logp`` / ``entropy`` is not given), and the
    surrogate's ``clip_frac``, ``clip_frac_low``, ``clip_frac_high``, ``dual_clip_frac``,
    ``approx_kl``, ``ratio_mean``.
    """
    m = mask.bool()
    pg, pg_stats = clipped_surrogate(logp, old_logp, advantages, m, clip_low=clip_low,
                                     clip_high=clip_high, dual_clip=dual_clip, level=level)
    per_token = pg
    kl_mean = 0.0
    if beta != 0.0 and ref_logp is None:
        raise ConfigError(f"a KL loss (beta={beta}) needs the reference log-probabilities")
    if ref_logp is not None:
        zero = torch.zeros_like(logp)
        kl = KL_ESTIMATORS.get(kl_estimator)(torch.where(m, logp, zero), torch.where(m, ref_logp, zero))
        if kl_clamp is not None:
            kl = kl.clamp(-kl_clamp, kl_clamp)
        kl_mean = float(masked_mean(kl.detach(), m))
        if beta != 0.0:
            per_token = per_token + beta * kl

    def agg(x: Tensor) -> Tensor:
        return aggregate(x, m, loss_agg, norm=norm, max_len=max_len)

    total = agg(per_token)
    entropy_mean = 0.0
    if entropy is not None:
        entropy_mean = float(masked_mean(entropy.detach(), m))
        if entropy_coef != 0.0:
            total = total - entropy_coef * agg(entropy)
    stats = {"loss": float(total.detach()), "pg_loss": float(agg(pg.detach())), "kl": kl_mean,
             "entropy": entropy_mean}
    stats.update({k: float(v) for k, v in pg_stats.items()})
    return total, stats
