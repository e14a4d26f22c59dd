"""The format and style gates: a gated response gets the minimum total, says which gate, and is not a solve."""
from __future__ import annotations

from mmrl.rewards.scoring import RewardConfig, counted_accuracy, score_record

RIGHT = "<think>Two and two make four.</think><answer>4</answer>"
MIXED = ("<think>The question asks for the sum of two and two, which is four.\n\n"
         "这个问题问的是二加二的和，答案显然是四，没有疑问。</think><answer>4</answer>")
LOOP = "<think>" + "I add two and two and get four again. " * 12 + "</think><answer>4</answer>"


def score(response, **cfg):
    return score_record({"id": "a", "response": response, "answer": "4"}, RewardConfig(workers=0, **cfg))


def test_the_style_gate_gives_mixed_language_the_minimum_total():
    out = score(MIXED, style_gate=True)
    assert out["rewards"]["accuracy"] == 1.0 and out["rewards"]["style"] == 0.0
    assert out["rewards"]["total"] == 0.0 and out["gate"] == "style"


def test_the_style_gate_gives_repeated_blocks_the_minimum_total():
    out = score(LOOP, style_gate=True)
    assert out["rewards"]["total"] == 0.0 and out["gate"] == "style"


def test_without_the_style_gate_the_style_is_reported_only():
    out = score(MIXED)
    assert out["rewards"]["total"] > 0.9 and "gate" not in out


def test_a_clean_response_passes_both_gates():
    out = score(RIGHT, style_gate=True, format_gate=True)
    assert out["rewards"]["total"] == 1.0 and "gate" not in out


def test_the_format_gate_names_itself():
    out = score("The answer is 4.", format_gate=True)
    assert out["rewards"]["accuracy"] == 1.0 and out["rewards"]["total"] == 0.0 and out["gate"] == "format"


def test_a_gated_right_answer_is_not_a_solve():
    assert counted_accuracy(score("The answer is 4.", format_gate=True)) == 0.0
    assert counted_accuracy(score(RIGHT, format_gate=True)) == 1.0


def test_rescoring_drops_a_stale_gate():
    gated = score("The answer is 4.", format_gate=True)
    again = score_record({**gated, "response": RIGHT}, RewardConfig(workers=0, format_gate=True))
    assert "gate" not in again
