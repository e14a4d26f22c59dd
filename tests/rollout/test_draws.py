"""The per-draw decode bookkeeping: end of sequence, stop strings, budgets, forced answers."""
from __future__ import annotations

import pytest
import torch

from mmrl.rollout.cleaning import make_cleaner
from mmrl.rollout.draws import DrawTracker, cut_at_stop
from mmrl.rollout.types import SamplingParams


@pytest.fixture(scope="module")
def tok(loaded):
    return loaded.tokenizer


def one_hot(tok_ids, vocab):
    logits = torch.full((len(tok_ids), vocab), -1e4)
    for i, t in enumerate(tok_ids):
        logits[i, t] = 0.0
    return logits


def drive(tracker, script, vocab):
    """Feed scripted greedy choices; returns the tokens taken per step and the finished flags."""
    rows = torch.arange(len(tracker.rows))
    taken = []
    for choices in script:
        active = [r for r in rows.tolist() if tracker.rows[r].reason is None]
        if not active:
            break
        tokens, finished = tracker.step(one_hot([choices[r] for r in active], vocab), torch.tensor(active))
        taken.append(tokens.tolist())
    return taken


def test_end_of_sequence_is_stop(tok):
    vocab = len(tok)
    a = tok.convert_tokens_to_ids("the") if "the" in tok.get_vocab() else 100
    tracker = DrawTracker(["x"], SamplingParams(n=2, temperature=0, max_new_tokens=5), tok, eos_ids=[2])
    drive(tracker, [[a, a], [2, a], [a, a], [a, a], [a, a]], vocab)
    first, second = tracker.completions(make_cleaner(tok))
    assert (first.finish_reason, first.num_tokens, first.token_ids[-1]) == ("stop", 2, 2)
    assert (second.finish_reason, second.num_tokens) == ("length", 5)


def test_stop_string_ends_and_is_cut(tok):
    ids = tok.encode(" red circle and blue square", add_special_tokens=False)
    tracker = DrawTracker(["x"], SamplingParams(n=1, temperature=0, max_new_tokens=len(ids) + 5, stop=["blue"]),
                          tok, eos_ids=[2])
    drive(tracker, [[t] for t in ids], len(tok))
    (c,) = tracker.completions(make_cleaner(tok))
    assert c.finish_reason == "stop"
    assert c.text == " red circle and "


def test_forced_answer_after_think_budget(tok):
    params = SamplingParams(n=1, temperature=0, max_new_tokens=20, think_budget=3, answer_budget=2)
    tracker = DrawTracker(["x"], params, tok, eos_ids=[2])
    forced = tok.encode("</think><answer>", add_special_tokens=False)
    a = 100
    taken = drive(tracker, [[a]] * 20, len(tok))
    (c,) = tracker.completions(make_cleaner(tok))
    assert c.finish_reason == "forced"
    assert c.token_ids == [a, a, a, *forced, a, a]
    assert [t[0] for t in taken[3:3 + len(forced)]] == forced, "forced tokens replace the sampled ones"
    assert "</think><answer>" in c.text


def test_closed_thinking_is_not_forced(tok):
    close = tok.encode("</think>", add_special_tokens=False)
    params = SamplingParams(n=1, temperature=0, max_new_tokens=8, think_budget=3, answer_budget=2)
    tracker = DrawTracker(["x"], params, tok, eos_ids=[2])
    drive(tracker, [[100]] + [[close[0]]] * len(close) + [[100]] * 10, len(tok))
    (c,) = tracker.completions(make_cleaner(tok))
    assert (c.finish_reason, c.num_tokens) == ("length", 8)


def test_cut_at_stop_uses_the_earliest_stop():
    assert cut_at_stop("abc</answer>def STOP", ["STOP", "</answer>"]) == "abc"
    assert cut_at_stop("no stop here", ["STOP"]) == "no stop here"
