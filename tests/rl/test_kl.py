"""Per-token KL estimators against values computed by hand.

Two tokens: token 0 has p = 0.5 under the policy and 0.25 under the reference (log-ratio
logp - ref = ln 2 = 0.693147), token 1 the reverse (-ln 2).
"""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.rl.kl import KL_ESTIMATORS, compute_kl

LN2 = math.log(2.0)
LOGP = torch.log(torch.tensor([[0.5, 0.25]], dtype=torch.float64))
REF = torch.log(torch.tensor([[0.25, 0.5]], dtype=torch.float64))


def kl(name, logp=LOGP, ref=REF):
    return compute_kl(name, logp, ref).tolist()[0]


def test_registered_names():
    assert KL_ESTIMATORS.names() == ["k1", "k2", "k3"]


def test_k1_is_the_log_ratio():
    assert kl("k1") == pytest.approx([LN2, -LN2], abs=1e-12)


def test_k2_is_half_the_squared_log_ratio():
    # 0.5 * 0.693147^2 = 0.240227 for both signs
    assert kl("k2") == pytest.approx([0.240227, 0.240227], abs=1e-6)


def test_k3_is_schulmans_estimator():
    # x = ref - logp: token 0: exp(-ln2) + ln2 - 1 = 0.5 + 0.693147 - 1 = 0.193147
    #                 token 1: exp(ln2) - ln2 - 1 = 2 - 0.693147 - 1 = 0.306853
    assert kl("k3") == pytest.approx([0.193147, 0.306853], abs=1e-6)


@pytest.mark.parametrize("name", ["k1", "k2", "k3"])
def test_equal_policies_give_zero(name):
    assert kl(name, LOGP, LOGP) == [0.0, 0.0]


def test_k3_clamps_the_log_ratio_to_20():
    # ref - logp = 100 and +inf are both taken as 20: exp(20) - 20 - 1 = 485165174.40979
    logp = torch.tensor([[-100.0, -math.inf]], dtype=torch.float64)
    ref = torch.zeros_like(logp)
    assert kl("k3", logp, ref) == pytest.approx([485165174.40979, 485165174.40979], rel=1e-12)
