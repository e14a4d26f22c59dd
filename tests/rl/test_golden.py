"""Golden values: every advantage estimator, reward scaling, KL estimator, policy loss and
aggregation on fixed tensors, against numbers computed outside mmrl from the published formulas.

The expected numbers were computed with plain Python (``math`` only, no torch, no mmrl) from the
cited formulas and are written here as literals; the arithmetic of the short ones is in the
comments. The fixtures have groups and responses of unequal size, a constant group and a response
whose tokens are all masked.

Sources (verl ``verl/trainer/ppo/core_algos.py`` at b178a3c, TRL ``trl/trainer/grpo_trainer.py``
at f2cd577):
- advantages: verl ``compute_grpo_outcome_advantage`` (``norm_adv_by_std_in_grpo`` True: GRPO,
  False: Dr.GRPO), ``compute_rloo_outcome_advantage``,
  ``compute_reinforce_plus_plus_baseline_outcome_advantage``; TRL ``scale_rewards`` group/batch/none;
- KL: verl ``kl_penalty_forward`` (k1 "kl", k2 "mse", k3 "low_var_kl" with its [-20, 20] log-ratio
  clamp and [-10, 10] result clamp = mmrl's ``kl_clamp`` 10); verl ``apply_kl_penalty``;
- policy loss: verl ``compute_policy_loss_vanilla`` (clip, dual clip ``clip_ratio_c``),
  ``compute_policy_loss_gspo``; TRL ``importance_sampling_level="sequence"``;
- aggregation: verl ``agg_loss`` token-mean and seq-mean-token-mean; seq-mean-token-sum-norm as
  Dr.GRPO (Liu et al. 2025) writes it, ``(1/G) sum_i sum_t loss / L_max`` (TRL ``dr_grpo``).
"""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.rl.advantages import compute_advantages
from mmrl.rl.kl import compute_kl, kl_in_reward
from mmrl.rl.losses import aggregate, clipped_surrogate, policy_loss

F64 = torch.float64
NAN = math.nan


def close(got, want, tol=1e-8):
    got = got.detach().tolist() if isinstance(got, torch.Tensor) else got
    assert got == pytest.approx(want, abs=tol)


# --- advantages ------------------------------------------------------------------------------------
# group 0: rewards 1, 0, 0 (mean 1/3, unbiased std sqrt(1/3) = 0.577350); group 1: 2, 1 (mean 1.5,
# std sqrt(0.5) = 0.707107); group 2: 0.5, 0.5 (constant: no signal). eps = 1e-6 (verl's epsilon).
REWARDS = torch.tensor([1.0, 0.0, 0.0, 2.0, 1.0, 0.5, 0.5], dtype=F64)
GROUP = torch.tensor([0, 0, 0, 1, 1, 2, 2])


def adv(name, **kw):
    return compute_advantages(name, REWARDS, GROUP, **kw)


def test_golden_grpo():
    # (r - mean_g) / (std_g + 1e-6): (2/3) / (0.577350 + 1e-6) = 1.154699, 0.5 / (0.707107 + 1e-6) = 0.707106
    close(adv("grpo"), [1.154698538, -0.577349269, -0.577349269, 0.707105781, -0.707105781, 0.0, 0.0])


def test_golden_drgrpo_is_grpo_without_the_std():
    close(adv("drgrpo"), [2 / 3, -1 / 3, -1 / 3, 0.5, -0.5, 0.0, 0.0], tol=1e-12)
    close(adv("grpo", scale="none"), [2 / 3, -1 / 3, -1 / 3, 0.5, -0.5, 0.0, 0.0], tol=1e-12)


def test_golden_batch_scaling_divides_by_the_std_of_every_reward():
    # TRL scale_rewards="batch": group mean, then / (std of the 7 rewards = 0.698638 + eps)
    close(adv("grpo", scale="batch"), [0.954236081, -0.477118041, -0.477118041, 0.715677061, -0.715677061, 0.0, 0.0])


def test_golden_rloo():
    # r_i - mean of the other G - 1: 1 - 0 = 1, 0 - 0.5 = -0.5, 2 - 1 = 1, 1 - 2 = -1
    close(adv("rloo"), [1.0, -0.5, -0.5, 1.0, -1.0, 0.0, 0.0], tol=1e-12)


def test_golden_rloo_scaled_by_the_group_std():
    close(adv("rloo", scale="group"), [1.732047808, -0.866023904, -0.866023904, 1.414211562, -1.414211562, 0.0, 0.0])


def test_golden_reinforce_pp_baseline():
    # r - mean_g, then whitened over the responses: mean 0, unbiased std 0.440959 (+ eps). verl whitens over
    # tokens (the same here up to Bessel's correction counting tokens); mmrl over responses, by design.
    close(adv("reinforce_pp"), [1.511854463, -0.755927232, -0.755927232, 1.133890848, -1.133890848, 0.0, 0.0])


# --- KL estimators ---------------------------------------------------------------------------------
# logp - ref per token; row 2 is empty (all masked), the others of unequal length.
KL_DIFF = [[0.5, -1.0, 25.0, NAN], [0.0, 2.0, NAN, NAN], [NAN] * 4, [-0.3, 0.3, 12.0, -12.0]]
KL_MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]])


def kl_pair():
    diff = torch.tensor(KL_DIFF, dtype=F64).nan_to_num(0.0)
    ref = torch.full_like(diff, -2.0)
    return ref + diff, ref


@pytest.mark.parametrize("name,want", [
    ("k1", [[0.5, -1.0, 25.0], [0.0, 2.0], [-0.3, 0.3, 12.0, -12.0]]),
    ("k2", [[0.125, 0.5, 312.5], [0.0, 2.0], [0.045, 0.045, 72.0, 72.0]]),
    # exp(x) - x - 1 with x = ref - logp clamped to [-20, 20]: x = -25 -> e^-20 + 19; x = 12 -> e^12 - 13
    ("k3", [[0.10653065971263342, 0.7182818284590451, 19.000000002061153], [0.0, 1.1353352832366128],
            [0.04985880757600314, 0.04081822068171781, 11.000006144212353, 162741.79141900392]]),
])
def test_golden_kl_estimators(name, want):
    logp, ref = kl_pair()
    got = compute_kl(name, logp, ref)
    rows = [got[i][KL_MASK[i].bool()].tolist() for i in (0, 1, 3)]
    for g, w in zip(rows, want):
        assert g == pytest.approx(w, rel=1e-9, abs=1e-12)


def test_golden_low_var_kl_is_k3_clamped_to_10_in_the_loss():
    # verl low_var_kl: the per-token k3 clamped to [-10, 10]; its masked mean over the 9 tokens
    logp, ref = kl_pair()
    zero = torch.zeros_like(logp)
    _, stats = policy_loss(logp, logp.detach(), zero[:, 0], KL_MASK, clip_low=0.2, clip_high=0.2, ref_logp=ref,
                           beta=0.1, kl_estimator="k3", kl_clamp=10.0)
    tokens = [0.10653065971263342, 0.7182818284590451, 10.0, 0.0, 1.1353352832366128,
              0.04985880757600314, 0.04081822068171781, 10.0, 10.0]
    assert stats["kl"] == pytest.approx(sum(tokens) / 9, rel=1e-9)


def test_golden_kl_in_the_reward():
    # verl apply_kl_penalty: token reward -= beta * kl_t, and the outcome estimators sum a response's token
    # rewards: its reward drops by beta * sum_t kl_t. k1, beta 0.1: 0.1 * 24.5, 0.1 * 2.0, empty 0, 0.1 * 0.0
    logp, ref = kl_pair()
    close(kl_in_reward("k1", logp, ref, KL_MASK, beta=0.1), [2.45, 0.2, 0.0, 0.0], tol=1e-12)
    # k3 clamped to 10 per token: 0.1 * (0.106531 + 0.718282 + 10), 0.1 * 1.135335, 0, 0.1 * (0.049859 + 0.040818 + 20)
    close(kl_in_reward("k3", logp, ref, KL_MASK, beta=0.1, clamp=10.0),
          [1.082481248817168, 0.11353352832366129, 0.0, 2.009067702825772])


# --- policy losses and aggregations ----------------------------------------------------------------
# logp - old per token, advantages A; row 2 is empty, row 3 comes from a constant group (A = 0).
LOG_RATIO = [[0.1, -0.3, 0.5, NAN], [0.2, -0.1, NAN, NAN], [NAN] * 4, [0.05, 0.05, -0.02, 0.3]]
MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
A = torch.tensor([1.0, -0.5, 2.0, 0.0], dtype=F64)


def ratios():
    old = torch.full((4, 4), -1.5, dtype=F64)
    logp = (old + torch.tensor(LOG_RATIO, dtype=F64)).requires_grad_(True)  # NaN on padding
    return logp, old


def per_token(level="token", clip_low=0.2, clip_high=0.28, **kw):
    logp, old = ratios()
    loss, stats = clipped_surrogate(logp, old, A, MASK, clip_low=clip_low, clip_high=clip_high, level=level, **kw)
    return logp, loss, stats


def masked_rows(x):
    return [x[i][MASK[i].bool()].tolist() for i in range(4)]


def test_golden_token_clipped_surrogate():
    # -min(rho A, clip(rho, 0.8, 1.28) A): row 0 e^0.1, e^-0.3, min(e^0.5, 1.28); row 1 0.5 e^0.2, 0.5 e^-0.1
    _, loss, _ = per_token()
    for got, want in zip(masked_rows(loss), [[-1.105170918, -0.740818221, -1.28], [0.610701379, 0.452418709], [],
                                             [0.0, 0.0, 0.0, 0.0]]):
        assert got == pytest.approx(want, abs=1e-9)


def test_golden_token_clipped_gradient():
    # d loss / d logp = -A rho where the unclipped branch is active, 0 where clipped, over the 9 tokens
    logp, loss, _ = per_token()
    aggregate(loss, MASK, "token-mean").backward()
    for got, want in zip(masked_rows(logp.grad), [[-0.12279676867507197, -0.08231313563130199, 0.0],
                                                  [0.0678557087866761, 0.05026874544644219], [],
                                                  [0.0, 0.0, 0.0, 0.0]]):
        assert got == pytest.approx(want, abs=1e-12)


def test_golden_dual_clip():
    # A = -0.5, log-ratio 1.5: max(0.5 e^1.5, 0.5 * 1.28) = 2.240845, capped at -A * 3 = 1.5 (verl clip_ratio_c)
    logp = torch.tensor([[1.5]], dtype=F64)
    mask, a = torch.ones(1, 1), torch.tensor([-0.5], dtype=F64)
    plain, _ = clipped_surrogate(logp, torch.zeros_like(logp), a, mask, clip_low=0.2, clip_high=0.28)
    capped, stats = clipped_surrogate(logp, torch.zeros_like(logp), a, mask, clip_low=0.2, clip_high=0.28,
                                      dual_clip=3.0)
    close(plain.flatten(), [2.2408445351690323], tol=1e-12)
    close(capped.flatten(), [1.5], tol=1e-12)
    assert float(stats["dual_clip_frac"]) == 1.0


@pytest.mark.parametrize("mode,kw,want", [
    # sum of the 9 token losses / 9
    ("token-mean", {}, -0.22920767229547787),
    # mean over the 3 non-empty rows of each row's token mean (the empty row counts for nothing, as in verl)
    ("seq-mean-token-mean", {}, -0.17014544517891872),
    # Dr.GRPO: each row's token sum / L_max = 5, mean over the 3 non-empty rows
    ("seq-mean-token-sum-norm", {"max_len": 5}, -0.1375246033772867),
])
def test_golden_aggregations(mode, kw, want):
    _, loss, _ = per_token()
    assert float(aggregate(loss.detach(), MASK, mode, **kw)) == pytest.approx(want, abs=1e-12)


def test_golden_gspo_sequence_ratio():
    # s_i = exp(mean_t log-ratio): row 0 e^0.1 (A = 1, inside 1.28), row 1 e^0.05, row 3 e^0.095 (A = 0)
    _, loss, stats = per_token("sequence")
    for got, want in zip(masked_rows(loss), [[-1.105170918] * 3, [0.525635548] * 2, [], [0.0] * 4]):
        assert got == pytest.approx(want, abs=1e-9)
    assert float(aggregate(loss.detach(), MASK, "seq-mean-token-mean")) == pytest.approx(-0.19317845662921188,
                                                                          abs=1e-12)
    # approx_kl stays per token (verl's ppo_kl): mean of old - logp over the 9 tokens
    assert float(stats["approx_kl"]) == pytest.approx(-(0.3 + 0.1 + 0.38) / 9, abs=1e-12)


def test_golden_gspo_gradient_is_the_sequence_objectives():
    # GSPO's gradient (paper eq. 10): s_i A_i (1/|y_i|) sum_t grad logp_t; with the mean over the 3 rows each
    # token of row i gets -A_i s_i / |y_i| / 3: row 0 -e^0.1 / 9, row 1 0.5 e^0.05 / 6, row 3 0
    logp, loss, _ = per_token("sequence")
    aggregate(loss, MASK, "seq-mean-token-mean").backward()
    for got, want in zip(masked_rows(logp.grad), [[-0.12279676867507196] * 3, [0.087605924698002] * 2, [],
                                                  [0.0] * 4]):
        assert got == pytest.approx(want, abs=1e-12)
    assert torch.isfinite(logp.grad).all(), "padding (NaN log-probs) must give no gradient"


def test_golden_gspo_with_its_own_clip():
    # clip 3e-4 / 4e-4: row 0's e^0.1 is clipped to 1.0004 (no gradient), row 1's 0.5 e^0.05 = 0.525636
    # beats 0.5 * 1.0004; clip_frac counts row 0's 3 tokens of 9 (verl's pg_clipfrac)
    logp, loss, stats = per_token("sequence", clip_low=3e-4, clip_high=4e-4)
    for got, want in zip(masked_rows(loss), [[-1.0004] * 3, [0.525635548] * 2, [], [0.0] * 4]):
        assert got == pytest.approx(want, abs=1e-9)
    assert float(stats["clip_frac"]) == pytest.approx(3 / 9)
    aggregate(loss, MASK, "seq-mean-token-mean").backward()
    assert masked_rows(logp.grad)[0] == [0.0, 0.0, 0.0]
