"""The MathVista normaliser and extraction order, case by case against the official rules
(lupantech/MathVista evaluation/calculate_score.py and extract_answer.py)."""
from __future__ import annotations

import pytest

from mmrl.eval.benchmarks.mathvista import (
    as_precision,
    normalize_extracted_answer,
    official_quick_rules,
)

CHOICES = ["3/11", "8/11", "6/11", "3/5"]


def mc(extraction):
    return normalize_extracted_answer(extraction, CHOICES, "multi_choice", "text", None)


def test_integer_answers_are_truncated_not_rounded():
    assert normalize_extracted_answer("3.7", None, "free_form", "integer", None) == "3"
    assert normalize_extracted_answer("-2.9", None, "free_form", "integer", None) == "-2"


def test_integer_answer_that_does_not_parse_is_none():
    assert normalize_extracted_answer("three", None, "free_form", "integer", None) is None
    assert normalize_extracted_answer(None, None, "free_form", "integer", None) is None


def test_float_answers_are_rounded_to_the_precision():
    assert normalize_extracted_answer("1.456", None, "free_form", "float", 2) == "1.46"
    assert normalize_extracted_answer("3.50", None, "free_form", "float", 1) == "3.5"
    assert normalize_extracted_answer("2", None, "free_form", "float", 1) == "2.0"


def test_float_rounding_is_pythons_round_half_even_on_binary_floats():
    # round(2.675, 2) is 2.67 in Python (2.675 is stored as 2.67499...), as in the official code
    assert normalize_extracted_answer("2.675", None, "free_form", "float", 2) == "2.67"
    assert normalize_extracted_answer("0.25", None, "free_form", "float", 1) == "0.2"


def test_float_without_precision_rounds_to_an_integer_as_round_none_does():
    assert normalize_extracted_answer("3.7", None, "free_form", "float", None) == "4"


def test_infinite_or_nan_numbers_are_none():
    assert normalize_extracted_answer("inf", None, "free_form", "integer", None) is None
    assert normalize_extracted_answer("nan", None, "free_form", "integer", None) is None


def test_list_answers_stay_strings_compared_verbatim():
    assert normalize_extracted_answer("[2007, 2008]", None, "free_form", "list", None) == "[2007, 2008]"
    assert normalize_extracted_answer("[2007,2008]", None, "free_form", "list", None) == "[2007,2008]"


def test_option_letter_maps_to_its_choice_text():
    assert mc("B") == "8/11"
    assert mc(" D ") == "3/5"


def test_letter_in_parentheses_is_taken_and_uppercased():
    assert mc("(b) 8/11") == "8/11"
    assert mc("The answer is (C)") == "6/11"


def test_first_parenthesised_letter_wins():
    assert mc("(A) or maybe (B)") == "3/11"


def test_lowercase_bare_letter_is_not_an_option_and_goes_to_edit_distance():
    # "b" is not in ["A", "B", ...]: the official code picks the closest option text instead
    # (distance 4 to "3/11", "8/11", "6/11"; 3 to "3/5")
    assert mc("b") == "3/5"


def test_unmatched_text_goes_to_the_option_at_smallest_edit_distance():
    assert mc("8/12") == "8/11"
    assert mc("6/1") == "6/11"


def test_edit_distance_ties_go_to_the_first_option():
    assert normalize_extracted_answer("x", ["ab", "cd"], "multi_choice", "text", None) == "ab"


def test_non_string_multichoice_extraction_is_stringified():
    assert normalize_extracted_answer(None, ["None", "Some"], "multi_choice", "text", None) == "None"


def test_hub_float_precision_becomes_the_official_int():
    assert as_precision(2.0) == 2 and as_precision(None) is None
    with pytest.raises(ValueError):
        as_precision(1.5)


def test_official_extraction_order_empty_then_choice_then_numbers_then_quick_rule():
    assert official_quick_rules("", CHOICES, "multi_choice", "text").method == "empty"
    assert official_quick_rules("8/11", CHOICES, "multi_choice", "text").text == "8/11"
    assert official_quick_rules(" 12 ", None, "free_form", "integer").text == "12"
    assert official_quick_rules("1.50", None, "free_form", "float").text == "1.5"
    quick = official_quick_rules('Thus... The answer is "3.5".', None, "free_form", "float")
    assert (quick.text, quick.method) == ("3.5", "quick_extract")
    assert official_quick_rules("I think 12.", None, "free_form", "integer") is None


def test_integer_question_with_float_text_is_not_taken_by_int_parse():
    # int("12.0") fails, so the official chain moves on (to GPT; here: the fallback rules)
    assert official_quick_rules("12.0", None, "free_form", "integer") is None


def test_every_case_of_the_benchmark_casebook_gets_the_official_verdict():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "eval_scoring.py"
    spec = importlib.util.spec_from_file_location("eval_scoring", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    score = module.mmrl_scorer()
    wrong = [case for case in module.CASES if score(case) != case[7]]
    assert wrong == []
