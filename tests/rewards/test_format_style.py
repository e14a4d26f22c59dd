"""The shared format and style components."""
from __future__ import annotations

import pytest

from mmrl.rewards.format import format_score
from mmrl.rewards.style import mixed_language, repetition, style_score


@pytest.mark.parametrize("response, score", [
    ("<think>a</think><answer>1</answer>", 1.0),
    ("  <think>a</think>\n<answer>1</answer>\n", 1.0),
    ("<think>a</think><answer>\\boxed{1}</answer>", 1.0),
    ("<think>a</think><answer>\\boxed{1} or \\boxed{2}</answer>", 0.0),
    ("<think>a</think>text<answer>1</answer>", 0.0),
    ("<think>a</think><answer>1</answer> more", 0.0),
    ("<think></think><answer>1</answer>", 0.0),
    ("<think>a</think><think>b</think><answer>1</answer>", 0.0),
    ("<answer>1</answer>", 0.0),
    ("<think>a<|image_pad|></think><answer>1</answer>", 1.0),
])
def test_strict_format(response, score):
    assert format_score(response, "strict") == score


def test_strict_format_with_a_required_glm_box():
    good = "<think>a</think><answer><|begin_of_box|>1<|end_of_box|></answer>"
    assert format_score(good, "strict", require_box=True) == 1.0
    assert format_score("<think>a</think><answer>1</answer>", "strict", require_box=True) == 0.0
    two = "<think>a</think><answer><|begin_of_box|>1<|end_of_box|><|begin_of_box|>2<|end_of_box|></answer>"
    assert format_score(two, "strict", require_box=True) == 0.0


@pytest.mark.parametrize("response, score", [
    ("<think>a</think>text<answer>1</answer> more", 1.0),
    ("<answer>1</answer>", 0.5),
    ("so the result is \\boxed{1}", 0.5),
    ("plain text", 0.0),
    ("<answer>1</answer><think>a</think>", 0.0),
])
def test_lenient_format(response, score):
    assert format_score(response, "lenient") == score


def test_unknown_format_mode_is_refused():
    with pytest.raises(ValueError):
        format_score("x", "loose")


ENGLISH = "We count the red circles in the picture and then we add the blue ones to them."
CHINESE = "我们先数一数图中的红色圆圈，然后把蓝色的加上去，得到最终的答案。"


def test_mixed_language_paragraphs_score_zero():
    assert mixed_language(f"{ENGLISH}\n\n{CHINESE}")
    assert style_score(f"{ENGLISH}\n\n{CHINESE}") == 0.0


def test_one_language_with_maths_is_not_mixed():
    assert not mixed_language(f"{CHINESE}\n\n$\\frac{{a}}{{b}} = \\sqrt{{x}} + y$")


def test_mixing_can_be_allowed():
    assert style_score(f"{ENGLISH}\n\n{CHINESE}", {"allow_mixed_language": True}) == 1.0


def test_ordinary_text_has_no_repetition():
    assert repetition(ENGLISH * 1) == 0.0
    assert style_score(ENGLISH) == 1.0


def test_a_loop_is_penalised():
    looped = "I will check again. " * 40
    assert repetition(looped) > 0.8
    assert style_score(looped) < 0.2


def test_repetition_ratio_hand_computed():
    # 16 distinct tokens then the same 16 again: 25 8-grams, of which the last 9 repeat ... and
    # those bridging the two copies are new: windows 17..25 (9 of them) start inside the copy.
    tokens = " ".join(f"w{i}" for i in range(16))
    assert repetition(f"{tokens} {tokens}") == pytest.approx(9 / 25)
