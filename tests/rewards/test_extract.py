"""Answer extraction: where the answer is, in order of trust."""
from __future__ import annotations

import pytest

from mmrl.rewards.extract import extract_answer, find_boxed, strip_special_tokens


@pytest.mark.parametrize("response, text, method", [
    ("<think>x</think><answer>42</answer>", "42", "answer_tag"),
    ("<think>x</think><answer> the value is \\boxed{7} </answer>", "7", "answer_tag"),
    ("<think>x</think><answer><|begin_of_box|>3/4<|end_of_box|></answer>", "3/4", "answer_tag"),
    ("<think>x</think><answer>12", "12", "answer_tag"),  # unclosed answer tag at the end
    ("<think>x</think>so <|begin_of_box|>B<|end_of_box|>", "B", "glm_box"),
    ("We get \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}", "boxed"),
    ("Thus the answer is 17.", "17", "answer_is"),
    ("Final Answer: $x = 3$", "$x = 3$", "answer_is"),
    ("some words\n\n  5 apples  \n", "5 apples", "fallback:last_line"),
])
def test_extraction_rules(response, text, method):
    found = extract_answer(response)
    assert (found.text, found.method) == (text, method)


def test_nested_braces_inside_a_box():
    assert find_boxed("\\boxed{\\frac{\\sqrt{3}}{2}}") == ["\\frac{\\sqrt{3}}{2}"]


def test_escaped_braces_do_not_close_a_box():
    assert find_boxed("\\boxed{\\{1, 2\\}}") == ["\\{1, 2\\}"]


def test_several_boxes_take_the_last_by_default():
    assert extract_answer("\\boxed{3} then \\boxed{5}").text == "5"


def test_several_boxes_can_be_joined():
    assert extract_answer("\\boxed{3} and \\boxed{5}", boxes="all").text == "3, 5"


def test_a_box_nested_in_a_box_counts_once():
    assert find_boxed("\\boxed{\\boxed{2}}") == ["\\boxed{2}"]


def test_box_without_braces():
    assert find_boxed("so \\boxed 5 is it") == ["5"]


def test_unclosed_box_is_ignored():
    assert find_boxed("\\boxed{12") == []


def test_answers_inside_thinking_are_not_taken():
    response = "<think>maybe \\boxed{3}</think>The result is clear: 4"
    assert extract_answer(response, fallback="last_number").text == "4"


def test_fallback_none_finds_nothing():
    found = extract_answer("no marker here", fallback="none")
    assert found.text is None and found.method == "none"


def test_fallback_last_number():
    assert extract_answer("we count 3 then 1,250 items", fallback="last_number").text == "1,250"


def test_empty_answer_tag_is_reported():
    assert extract_answer("<think>a</think><answer>  </answer>").method == "answer_tag_empty"


def test_unknown_fallback_is_refused():
    with pytest.raises(ValueError):
        extract_answer("x", fallback="guess")


def test_spurious_special_tokens_are_removed_but_glm_boxes_kept():
    text = "a<|image_pad|><|image_pad|>b<|begin_of_box|>1<|end_of_box|>"
    assert strip_special_tokens(text) == "ab<|begin_of_box|>1<|end_of_box|>"


def test_ten_thousand_nested_braces_are_one_box():
    text = "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}"
    assert find_boxed(text) == ["{" * 10_000 + "1" + "}" * 10_000]


def test_many_unclosed_boxes_give_nothing():
    # the scan is linear (no recursion, no backtracking); its speed is measured by
    # benchmarks/reward_bench.py --pathological, not asserted here
    assert extract_answer("\\boxed{" * 10_000, fallback="none").text is None
