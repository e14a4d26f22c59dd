"""MATH-Vision on the shipped records and its official rule scorer, case by case."""
from __future__ import annotations

from tests.eval.eval_helpers import score

from mmrl.eval.benchmarks.mathvision import cut_answer, eval_tuple, find_math_answer, is_equal, strip_string


def test_image_tag_becomes_the_spec_placeholder_and_options_become_choices(samples_of):
    s = samples_of("mathvision")["1"]
    assert s["question"] == "<image>\nWhich shape comes next?"
    assert s["choices"][1] == "square" and s["answer"] == "B"
    assert s["meta"] == {"subject": "logic", "level": 2, "split": "testmini"}


def test_option_letter_or_option_text_both_count(samples_of):
    s = samples_of("mathvision")["1"]
    assert score("mathvision", "<answer>B</answer>", s).correct
    j = score("mathvision", "<answer>Square</answer>", s)
    assert j.correct and j.detail == "matches the option text"
    assert not score("mathvision", "<answer>A</answer>", s).correct


def test_values_equal_to_two_decimals_count(samples_of):
    assert score("mathvision", "<answer>3.14</answer>", samples_of("mathvision")["2"]).correct
    assert score("mathvision", "<answer>0.75</answer>", samples_of("mathvision")["3"]).correct
    assert score("mathvision", "<answer>3/4</answer>", samples_of("mathvision")["3"]).correct
    assert not score("mathvision", "<answer>0.7</answer>", samples_of("mathvision")["3"]).correct


def test_tuples_compare_element_by_element(samples_of):
    assert score("mathvision", "<answer>(1, 2)</answer>", samples_of("mathvision")["4"]).correct
    assert eval_tuple("(2*3,5+2)") == "(6,7)"  # Python ints print without ".0", as officially
    assert eval_tuple("(a,1)") == "(a,1)"


def test_response_level_cuts_follow_the_official_order():
    assert cut_answer("So it must be (C).\nThe figure shows it: (C) C\n... and the answer is C.")[0] == "C"
    assert cut_answer("Therefore the final answer is 12. Done.") == ("12", "answer_phrase")
    assert cut_answer("So x is 12.") == ("12", "is_number")
    text, rule = cut_answer("We get \\boxed{7} then \\boxed{\\frac{1}{2}}")
    assert rule == "boxed" and find_math_answer(text) == "\\frac{1}{2}"


def test_find_math_answer_cleans_latex_and_units():
    assert find_math_answer("\\boxed{x = 45^\\circ}") == "45"
    assert find_math_answer("\\boxed{12\\text{ cm}}") == "12{cm}"  # spaces go before \\text{ is cut
    assert find_math_answer("\\boxed{0.5}") == "\\frac{1}{2}"
    assert strip_string("3/4") == "\\frac{3}{4}"


def test_is_equal_is_case_insensitive_and_rejects_empty():
    assert is_equal("Square", "square")
    assert not is_equal("", "")
    assert not is_equal("x+1", "x+2")


def test_quirk_fractions_are_only_fixed_when_sqrt_appears():
    # the official _strip_string runs _fix_fracs only inside its 'sqrt' branch
    assert strip_string("\\frac12") == "\\frac12"
    assert strip_string("\\sqrt2\\frac12") == "\\sqrt{2}\\frac{1}{2}"
