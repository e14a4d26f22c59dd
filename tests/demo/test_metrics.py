"""The demo's answer-spread metrics: entropy of the answers given and accuracy per reference answer."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from mmrl.demo.metrics import NO_ANSWER, answer_of, answer_stats, entropy_bits, step_metrics


def scored(answer, extracted, accuracy):
    return {"answer": answer, "extracted": extracted, "rewards": {"accuracy": accuracy}}


def test_four_answers_alike_have_two_bits_and_one_answer_has_none():
    assert entropy_bits([5, 5, 5, 5]) == pytest.approx(2.0)
    assert entropy_bits([20, 0, 0, 0]) == 0.0
    assert entropy_bits([]) == 0.0


def test_entropy_of_a_skewed_split():
    assert entropy_bits([3, 1]) == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))


def test_missing_or_blank_extraction_counts_as_no_answer_and_case_is_ignored():
    assert answer_of({"extracted": None}) == answer_of({"extracted": "  "}) == NO_ANSWER
    assert answer_of({"extracted": " Blue "}) == "blue"


def test_answer_stats_count_the_answers_given_and_score_each_reference_answer():
    records = [scored("red", "red", 1.0), scored("red", "blue", 0.0), scored("blue", "blue", 1.0),
               scored("blue", None, 0.0)]
    stats = answer_stats(records, lambda r: r["rewards"]["accuracy"])
    assert stats["answers"] == {"blue": 2, "red": 1, NO_ANSWER: 1}
    assert stats["accuracy_by_answer"] == {"blue": 0.5, "red": 0.5}
    assert stats["entropy_bits"] == pytest.approx(1.5)


def test_step_metrics_cover_every_drawn_group():
    valid = SimpleNamespace(records=[scored("red", "red", 1.0), scored("red", "green", 0.0)])
    constant = SimpleNamespace(records=[scored("green", "red", 0.0), scored("green", "red", 0.0)])
    out = step_metrics([valid, constant])
    assert out["answer_accuracy/red"] == 0.5 and out["answer_accuracy/green"] == 0.0
    assert out["answer_entropy"] == pytest.approx(entropy_bits([3, 1]))
