"""Sampling math against hand-computed values."""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.model.logprobs import selective_logprobs
from mmrl.rollout.token_sampling import (RowStreams, filter_probs, inverse_cdf, row_seed, sample_tokens,
                                         sampled_logprobs)

LOGITS = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))


def test_temperature_one_keeps_the_distribution():
    probs, order = filter_probs(LOGITS, 1.0)
    assert order is None
    torch.testing.assert_close(probs, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))


def test_temperature_sharpens():
    probs, _ = filter_probs(LOGITS, 0.5)  # p_i^2 / sum p^2 = [1, 4, 9, 16] / 30
    torch.testing.assert_close(probs, torch.tensor([[1, 4, 9, 16]]) / 30.0)


def test_top_k_keeps_the_k_most_likely():
    probs, _ = filter_probs(LOGITS, 1.0, top_k=2)
    torch.testing.assert_close(probs, torch.tensor([[0.0, 0.0, 3 / 7, 4 / 7]]))


def test_top_p_keeps_the_smallest_set_reaching_p():
    # sorted: 0.4, 0.3, 0.2, 0.1; mass before each: 0, 0.4, 0.7, 0.9 -> top_p 0.6 keeps 0.4 and 0.3
    probs, order = filter_probs(LOGITS, 1.0, top_p=0.6)
    assert order.tolist() == [[3, 2, 1, 0]]
    torch.testing.assert_close(probs, torch.tensor([[4 / 7, 3 / 7, 0.0, 0.0]]))


def test_inverse_cdf_picks_the_interval_of_u():
    probs = torch.tensor([[0.1, 0.2, 0.3, 0.4]] * 4)
    u = torch.tensor([0.05, 0.15, 0.55, 0.95])
    assert inverse_cdf(probs, u).tolist() == [0, 1, 2, 3]


def test_inverse_cdf_never_picks_a_zero_probability_token():
    probs = torch.tensor([[0.5, 0.5, 0.0]])
    assert inverse_cdf(probs, torch.tensor([0.9999999999])).tolist() == [1]


def test_greedy_is_argmax_and_needs_no_uniforms():
    assert sample_tokens(LOGITS, None, 0.0).tolist() == [3]


def test_sampling_with_top_p_maps_back_to_token_ids():
    # kept: token 3 (4/7) and token 2 (3/7); u = 0.9 falls in token 2's share
    assert sample_tokens(LOGITS, torch.tensor([0.9]), 1.0, top_p=0.6).tolist() == [2]
    assert sample_tokens(LOGITS, torch.tensor([0.1]), 1.0, top_p=0.6).tolist() == [3]


def test_row_seeds_are_stable_and_distinct():
    assert row_seed(0, "a", 0) == row_seed(0, "a", 0)
    assert len({row_seed(0, "a", 0), row_seed(0, "a", 1), row_seed(0, "b", 0), row_seed(1, "a", 0)}) == 4


def test_row_streams_do_not_depend_on_which_rows_draw_together():
    a = RowStreams([1, 2, 3])
    b = RowStreams([1, 2, 3])
    both = a.uniforms([0, 2]).tolist()
    assert [b.uniforms([2]).item(), b.uniforms([0]).item()] == [both[1], both[0]]


def test_token_logprobs_at_temperature_one():
    lp = selective_logprobs(LOGITS, torch.tensor([2]))
    assert lp.item() == pytest.approx(math.log(0.3), abs=1e-6)


def test_token_logprobs_at_a_sampling_temperature_are_those_of_the_sharpened_distribution():
    lp = selective_logprobs(LOGITS, torch.tensor([2]), temperature=0.5)
    probs = LOGITS.double().div(0.5).softmax(-1)
    assert lp.item() == pytest.approx(math.log(probs[0, 2].item()), abs=1e-6)


@pytest.mark.parametrize("token, top_k, top_p, prob", [
    (3, 0, 0.7, 0.4 / 0.7), (2, 0, 0.7, 0.3 / 0.7),  # the nucleus {0.4, 0.3}, renormalised
    (2, 2, 1.0, 0.3 / 0.7),                          # top-2 keeps the same two
    (2, 0, 1.0, 0.3),                                # no filter: the plain probability
])
def test_a_draws_log_prob_is_under_the_distribution_it_was_drawn_from(token, top_k, top_p, prob):
    lp = sampled_logprobs(LOGITS, torch.tensor([token]), 1.0, top_k=top_k, top_p=top_p)
    assert lp.item() == pytest.approx(math.log(prob), abs=1e-6)
