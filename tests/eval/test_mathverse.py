"""MathVerse on the shipped records: rule extraction and the official quick match (==)."""
from __future__ import annotations

from tests.eval.eval_helpers import score


def test_prompt_is_the_official_cot_query(samples_of):
    s = samples_of("mathverse")["1"]
    assert s["question"].startswith("Please first conduct reasoning")
    assert s["meta"]["problem_version"] == "Text Dominant" and s["meta"]["subfield"] == "Length"


def test_free_form_answer_matches_exactly(samples_of):
    j = score("mathverse", "<think>3-4-5</think><answer>5</answer>", samples_of("mathverse")["1"])
    assert (j.extracted, j.correct, j.rule) == ("5", True, "answer_tag")


def test_quick_match_is_strict_string_equality(samples_of):
    # the official quick match does not treat 5.0 as 5: only the judge would
    assert not score("mathverse", "<answer>5.0</answer>", samples_of("mathverse")["1"]).correct
    assert not score("mathverse", "<answer>y = 2x + 1</answer>", samples_of("mathverse")["4"]).correct
    assert score("mathverse", "<answer>y=2x+1</answer>", samples_of("mathverse")["4"]).correct


def test_multi_choice_extraction_is_reduced_to_the_option_letter(samples_of):
    s = samples_of("mathverse")["3"]
    assert score("mathverse", "<answer>C:60°</answer>", s).extracted == "C"
    assert score("mathverse", "<answer>(C)</answer>", s).correct
    j = score("mathverse", "The angle is 60 degrees, so option C is right", s)
    assert (j.extracted, j.rule, j.correct) == ("C", "last_letter", True)


def test_answer_phrase_is_used_without_a_tag(samples_of):
    j = score("mathverse", "By Pythagoras the answer is 5.", samples_of("mathverse")["2"])
    assert (j.extracted, j.rule, j.correct) == ("5", "answer_is", True)
