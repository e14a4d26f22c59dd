"""The clipped surrogate, aggregation modes, entropy and the composed policy loss, by hand.

Log-probabilities are written as ``log(rho)`` against an old policy at 0, so each token's
importance ratio rho can be read off the test.
"""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.rl.losses import (AGGREGATIONS, aggregate, clipped_surrogate, entropy_from_logits, masked_mean,
                            policy_loss)

F64 = torch.float64
NAN = math.nan


def t(rows):
    return torch.tensor(rows, dtype=F64)


def assert_rows(x, rows, tol=1e-12):
    torch.testing.assert_close(x.detach(), t(rows), atol=tol, rtol=0)


# --- clipped surrogate --------------------------------------------------------------------------
# Row 0 has A = +1, row 1 has A = -2; clip_low 0.2, clip_high 0.28: rho is clipped to [0.8, 1.28].
#   row 0: rho 1.5 -> max(-1.5, -1.28) = -1.28 (clipped, high) | 1.1 -> -1.1 | 0.5 -> max(-0.5, -0.8) = -0.5
#   row 1: rho 0.5 -> max(1.0, 1.6) = 1.6 (clipped, low) | 1.5 -> max(3.0, 2.56) = 3.0 | 0.9 -> 1.8
# The last token of each row is padding (NaN log-probabilities).
RHO = [[1.5, 1.1, 0.5, NAN], [0.5, 1.5, 0.9, NAN]]
MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0]])
ADV = t([1.0, -2.0])


def surrogate(**kw):
    logp = torch.log(t(RHO)).requires_grad_(True)
    old = torch.zeros_like(logp)
    old[:, -1] = NAN
    loss, stats = clipped_surrogate(logp, old, ADV, MASK, **{"clip_low": 0.2, "clip_high": 0.28, **kw})
    return logp, loss, stats


def test_surrogate_takes_the_pessimistic_branch_per_token():
    _, loss, _ = surrogate()
    assert_rows(loss, [[-1.28, -1.1, -0.5, 0.0], [1.6, 3.0, 1.8, 0.0]])


def test_clipped_tokens_and_padding_get_no_gradient():
    logp, loss, _ = surrogate()
    loss.sum().backward()
    # d(-A rho)/d logp = -A rho where unclipped; 0 where the clipped branch is active or masked
    assert_rows(logp.grad, [[0.0, -1.1, -0.5, 0.0], [0.0, 3.0, 1.8, 0.0]])


def test_surrogate_statistics():
    _, _, stats = surrogate()
    assert {k: float(v) for k, v in stats.items()} == pytest.approx({
        "clip_frac": 2 / 6, "clip_frac_high": 1 / 6, "clip_frac_low": 1 / 6, "dual_clip_frac": 0.0,
        # mean of old - new = -ln(1.5 * 1.1 * 0.5 * 0.5 * 1.5 * 0.9) / 6
        "approx_kl": -math.log(0.556875) / 6,
        "ratio_mean": (1.5 + 1.1 + 0.5 + 0.5 + 1.5 + 0.9) / 6,
    }, abs=1e-12)
    assert all(v.dim() == 0 and not v.requires_grad for v in stats.values())


def test_per_token_advantages_equal_broadcast_ones():
    logp = torch.log(t([[1.5, 0.5]]))
    a = clipped_surrogate(logp, torch.zeros_like(logp), t([1.0]), torch.ones(1, 2))[0]
    b = clipped_surrogate(logp, torch.zeros_like(logp), t([[1.0, 1.0]]), torch.ones(1, 2))[0]
    assert torch.equal(a, b)


def test_dual_clip_caps_the_loss_of_negative_advantages():
    # dual_clip 3; row 0 (A = -1): rho 4 -> max(4, 1.28) = 4, capped at 3 | rho 2 -> 2 (under the cap)
    #               row 1 (A = +1): rho 4 -> max(-4, -1.28) = -1.28 (no cap for A > 0) | rho 1 -> -1
    logp = torch.log(t([[4.0, 2.0], [4.0, 1.0]]))
    loss, stats = clipped_surrogate(logp, torch.zeros_like(logp), t([-1.0, 1.0]), torch.ones(2, 2),
                                    clip_low=0.2, clip_high=0.28, dual_clip=3.0)
    assert_rows(loss, [[3.0, 2.0], [-1.28, -1.0]])
    assert float(stats["dual_clip_frac"]) == 0.25


def test_dual_clip_must_exceed_one():
    with pytest.raises(ConfigError, match="dual_clip"):
        surrogate(dual_clip=1.0)


# --- aggregation --------------------------------------------------------------------------------
# Row 0: tokens 1, 2, 3 | row 1: token 4 | row 2: no token. 100 marks padding.
LOSS = t([[1.0, 2.0, 3.0, 100.0], [4.0, 100.0, 100.0, 100.0], [100.0] * 4])
LMASK = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])


def test_aggregation_names():
    assert AGGREGATIONS.names() == ["seq-mean-token-mean", "seq-mean-token-sum-norm", "token-mean"]


def test_token_mean_weighs_every_token_alike():
    assert float(aggregate(LOSS, LMASK, "token-mean")) == pytest.approx((1 + 2 + 3 + 4) / 4)


def test_seq_mean_token_mean_weighs_every_sequence_alike():
    # row means 2 and 4; the row without tokens is not a sequence
    assert float(aggregate(LOSS, LMASK, "seq-mean-token-mean")) == pytest.approx((2 + 4) / 2)


def test_seq_mean_token_sum_norm_divides_sums_by_a_constant_length():
    # row sums 6 and 4 over max_len 4, mean over the two sequences
    assert float(aggregate(LOSS, LMASK, "seq-mean-token-sum-norm", max_len=4)) == pytest.approx((6 / 4 + 4 / 4) / 2)


def test_seq_mean_token_sum_norm_needs_max_len():
    with pytest.raises(ConfigError, match="max_len"):
        aggregate(LOSS, LMASK, "seq-mean-token-sum-norm")


@pytest.mark.parametrize("mode, norm", [("token-mean", 4), ("seq-mean-token-mean", 2),
                                        ("seq-mean-token-sum-norm", 2)])
def test_norm_makes_micro_batches_add_up_to_the_batch(mode, norm):
    # norm = the whole batch's tokens (token-mean) or sequences (the others)
    full = aggregate(LOSS, LMASK, mode, max_len=4)
    parts = [aggregate(LOSS[rows], LMASK[rows], mode, norm=norm, max_len=4) for rows in ([0], [1, 2])]
    assert float(sum(parts)) == pytest.approx(float(full), abs=1e-12)


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
def test_no_tokens_aggregate_to_zero(mode):
    assert float(aggregate(LOSS, torch.zeros_like(LMASK), mode, max_len=4)) == 0.0


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
def test_nan_outside_the_mask_does_not_leak(mode):
    nan_padded = torch.where(LMASK.bool(), LOSS, torch.full_like(LOSS, NAN))
    assert float(aggregate(nan_padded, LMASK, mode, max_len=4)) == float(aggregate(LOSS, LMASK, mode, max_len=4))


def test_masked_mean_over_all_and_along_a_dim():
    assert float(masked_mean(LOSS, LMASK)) == pytest.approx(2.5)
    assert masked_mean(LOSS, LMASK, dim=-1).tolist() == pytest.approx([2.0, 4.0, 0.0])


def test_masked_mean_of_nothing_is_zero():
    assert float(masked_mean(LOSS, torch.zeros_like(LMASK))) == 0.0


# --- entropy ------------------------------------------------------------------------------------
def test_entropy_of_softmax():
    # p = (0.5, 0.5): ln 2 | p = (0.75, 0.25): -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335
    h = entropy_from_logits(t([[0.0, 0.0], [math.log(3.0), 0.0]]))
    assert h.tolist() == pytest.approx([math.log(2.0), 0.562335], abs=1e-6)


def test_entropy_is_stable_for_large_and_infinite_logits():
    h = entropy_from_logits(t([[1000.0, 1000.0, -math.inf], [-1e4, -1e4, -1e4]]))
    assert h.tolist() == pytest.approx([math.log(2.0), math.log(3.0)], abs=1e-12)


def test_entropy_of_half_precision_is_float32():
    assert entropy_from_logits(torch.zeros(2, 3, dtype=torch.bfloat16)).dtype == torch.float32


# --- policy loss --------------------------------------------------------------------------------
# Row 0 (A = +1): rho 1.5 -> -1.2 (clipped at 1.2) | rho 1 -> -1
# Row 1 (A = -1): rho 0.5 -> max(0.5, 0.8) = 0.8 (clipped) | padding
# k3 against the reference: ref - logp = ln 2 -> 2 - ln 2 - 1 = 0.306853; 0 -> 0; -ln 2 -> 0.5 + ln 2 - 1 = 0.193147
# (the two sum to 0.5). Entropy per token 1, 2 | 3, padding.
PL_LOGP = torch.log(t([[1.5, 1.0], [0.5, 1.0]]))
PL_MASK = torch.tensor([[1, 1], [1, 0]])
PL_REF = PL_LOGP + t([[math.log(2.0), 0.0], [-math.log(2.0), 0.0]])
PL_ENT = t([[1.0, 2.0], [3.0, 99.0]])


def composed(**kw):
    args = dict(clip_low=0.2, clip_high=0.2, ref_logp=PL_REF, beta=0.1, entropy=PL_ENT, entropy_coef=0.01)
    args.update(kw)
    return policy_loss(PL_LOGP, torch.zeros_like(PL_LOGP), t([1.0, -1.0]), PL_MASK, **args)


def test_policy_loss_composes_surrogate_kl_and_entropy():
    # token-mean over 3 tokens: pg (-1.2 - 1 + 0.8)/3, kl 0.5/3, entropy 6/3
    # total = -1.4/3 + 0.1 * 0.5/3 - 0.01 * 2 = -0.45 - 0.02 = -0.47
    total, stats = composed()
    assert float(total) == pytest.approx(-0.47, abs=1e-12)
    assert stats == pytest.approx({
        "loss": -0.47, "pg_loss": -1.4 / 3, "kl": 0.5 / 3, "entropy": 2.0,
        "clip_frac": 2 / 3, "clip_frac_high": 1 / 3, "clip_frac_low": 1 / 3, "dual_clip_frac": 0.0,
        "approx_kl": -math.log(1.5 * 1.0 * 0.5) / 3, "ratio_mean": 3.0 / 3}, abs=1e-12)
    assert all(type(v) is float for v in stats.values())


def test_policy_loss_aggregates_kl_and_entropy_like_the_surrogate():
    # seq-mean-token-mean: pg (-1.1 + 0.8)/2 = -0.15; kl (0.306853/2 + 0.193147)/2 = 0.173287;
    # entropy (1.5 + 3)/2 = 2.25; total = -0.15 + 0.1 * 0.173287 - 0.01 * 2.25 = -0.155171
    total, stats = composed(loss_agg="seq-mean-token-mean")
    assert float(total) == pytest.approx(-0.155171, abs=1e-6)
    assert stats["pg_loss"] == pytest.approx(-0.15, abs=1e-12)


def test_policy_loss_without_kl_or_entropy_is_the_surrogate():
    total, stats = composed(ref_logp=None, beta=0.0, entropy=None)
    assert float(total) == pytest.approx(-1.4 / 3, abs=1e-12)
    assert stats["kl"] == 0.0 and stats["entropy"] == 0.0


def test_policy_loss_reports_kl_that_is_not_in_the_loss():
    total, stats = composed(beta=0.0, entropy=None)
    assert float(total) == pytest.approx(-1.4 / 3, abs=1e-12) and stats["kl"] == pytest.approx(0.5 / 3)


def test_policy_loss_with_beta_needs_reference_logps():
    with pytest.raises(ConfigError, match="reference"):
        composed(ref_logp=None)


def test_policy_loss_gradient_ignores_padding():
    # -inf log-probabilities on the padding token must not turn the gradient into NaN
    logp = PL_LOGP.clone()
    logp[1, 1] = -math.inf
    logp.requires_grad_(True)
    ref = PL_REF.clone()
    ref[1, 1] = -math.inf
    total, _ = policy_loss(logp, torch.zeros_like(logp), t([1.0, -1.0]), PL_MASK, clip_low=0.2, clip_high=0.2,
                           ref_logp=ref, beta=0.1)
    total.backward()
    assert torch.isfinite(logp.grad).all() and logp.grad[1, 1] == 0.0


def test_kl_clamp_bounds_k3_and_its_gradient_as_verl_does():
    # log-ratio 8: k3 = e^8 - 8 - 1 = 2971.96, gradient -(e^8 - 1) = -2979.96 per token unclamped
    logp = torch.tensor([[-9.0]], requires_grad=True)
    ref = torch.tensor([[-1.0]])
    common = dict(clip_low=0.2, clip_high=0.2, ref_logp=ref, beta=1.0, kl_estimator="k3")
    loss, stats = policy_loss(logp, logp.detach(), torch.zeros(1), torch.ones(1, 1), **common)
    loss.backward()
    assert stats["kl"] == pytest.approx(math.exp(8) - 9) and logp.grad.item() == pytest.approx(1 - math.exp(8))
    logp.grad = None
    loss, stats = policy_loss(logp, logp.detach(), torch.zeros(1), torch.ones(1, 1), kl_clamp=10.0, **common)
    loss.backward()
    assert stats["kl"] == 10.0 and logp.grad.item() == 0.0


def test_grpo_clamps_the_kl_at_verls_value_by_default():
    from mmrl.rl.config import GRPOConfig

    assert GRPOConfig.from_flags(model="m", data="d", out="o").loss.kl_clamp == 10.0


def test_importance_levels():
    from mmrl.rl.losses import IMPORTANCE_LEVELS

    assert IMPORTANCE_LEVELS.names() == ["sequence", "token"]


def test_the_sequence_ratio_of_an_empty_row_is_one_and_padding_gives_no_gradient():
    from mmrl.rl.losses import sequence_log_ratio

    logp = torch.tensor([[-1.0, -torch.inf], [-torch.inf, -torch.inf]], dtype=F64, requires_grad=True)
    old = torch.tensor([[-1.5, -torch.inf], [-torch.inf, -torch.inf]], dtype=F64)
    mask = torch.tensor([[1, 0], [0, 0]])
    out = sequence_log_ratio(logp, old, mask)
    assert out.tolist() == [[0.5, 0.0], [0.0, 0.0]]
    out.sum().backward()
    assert logp.grad.tolist() == [[1.0, 0.0], [0.0, 0.0]]
