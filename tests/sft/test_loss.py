"""Token log-likelihoods against values computed by hand."""
from __future__ import annotations

import math

import torch

from mmrl.train.loss import nll_sum, token_logprobs


def test_nll_counts_only_labelled_next_tokens():
    # vocabulary of 2; position t predicts token t+1
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0], [5.0, 5.0]]])
    labels = torch.tensor([[-100, 1, 0]])
    total, count = nll_sum(logits, labels)
    # token 1 from uniform logits: log 2; token 0 from (log 3, 0): -log(3/4)
    assert count == 2
    assert math.isclose(float(total), math.log(2) - math.log(0.75), rel_tol=1e-6)


def test_token_logprobs_are_zero_where_ignored():
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0], [5.0, 5.0]]])
    labels = torch.tensor([[-100, -100, 0]])
    lp = token_logprobs(logits, labels)
    assert lp.shape == (1, 2)
    assert float(lp[0, 0]) == 0.0 and math.isclose(float(lp[0, 1]), math.log(0.75), rel_tol=1e-6)
