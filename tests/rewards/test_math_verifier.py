"""The math verifier: mathematical equivalence, with tolerance, structure and text fallbacks."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.mathparse import Tolerance, math_equal


def score(answer, said, **params):
    return VERIFIERS.get("math")(f"<think>t</think><answer>{said}</answer>", {"answer": answer}, params)


EQUAL = [
    ("2", "2.0"), ("2", "x=2"), ("2", "2 = x"), ("0.5", "\\frac{1}{2}"), ("0.5", "\\dfrac12"), ("3/4", "0.75"),
    ("2.5", "2\\frac{1}{2}"), ("2.5", "2 1/2"), ("0.5", "50\\%"), ("50\\%", "0.5"), ("1.5e-3", "0.0015"),
    ("1.5\\times 10^{-3}", "0.0015"), ("1000000", "1,000,000"), ("45", "45^\\circ"), ("5", "5 cm"), ("20", "20 m/s"), ("9.8", "9.8 m/s^2"),
    ("(1, 2]", "(1,2]"), ("\\{1, 2, 3\\}", "\\{3, 1, 2\\}"), ("(1, 2)", "(1,2)"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}"),
    ("2x+1", "1+2x"), ("\\frac{x^2-1}{x-1}", "x+1"), ("\\sqrt{8}", "2\\sqrt{2}"), ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("\\pi", "3.14159265358979"), ("2\\pi", "\\pi \\cdot 2"), ("\\sin^2 x + \\cos^2 x", "1"),
    ("y = 2x + 1", "2x - y + 1 = 0"), ("x=2 \\text{ or } x=3", "\\{3, 2\\}"), ("1 \\pm \\sqrt{2}", "1-\\sqrt2, 1+\\sqrt2"),
    ("(-\\infty, 3)", "(-\\infty,3)"), ("x > 2", "2 < x"), ("1 < x \\le 3", "(1, 3]"), ("Yes", "yes"),
    ("\\text{even}", "even"), ("e^{2}", "\\exp(2)"), ("\\log_2 8", "3"), ("10!", "3628800"),
]
DIFFERENT = [
    ("2", "3"), ("1/3", "0.333"), ("(1, 2)", "(2, 1)"), ("(1, 2]", "[1, 2]"), ("[1, 2]", "(1, 2)"),
    ("\\{1, 2\\}", "\\{1, 2, 3\\}"), ("2x+1", "2y+1"), ("x", "\\sqrt{x^2}"), ("\\pi", "3.14"),
    ("1.6e-19", "3.2e-19"), ("even", "odd"), ("x > 2", "x \\ge 2"), ("x = 2", "y = 2x"),
]


@pytest.mark.parametrize("gold, pred", EQUAL)
def test_equivalent_answers(gold, pred):
    assert score(gold, pred).accuracy == 1.0


@pytest.mark.parametrize("gold, pred", DIFFERENT)
def test_different_answers(gold, pred):
    assert score(gold, pred).accuracy == 0.0


def test_relative_tolerance_is_a_param():
    assert score("100", "100.5").accuracy == 0.0
    assert score("100", "100.5", rel_tol=0.01).accuracy == 1.0


def test_tolerance_is_relative_to_the_larger_value():
    assert math_equal("1000000", "1000000.5", Tolerance(rel=1e-6))
    assert not math_equal("1000000", "1000002.5", Tolerance(rel=1e-6))


def test_exact_answers_get_no_tolerance():
    assert not math_equal("9511891", "9,511,900", Tolerance(rel=1e-6))
    assert not math_equal("\\frac{1000000}{3}", "\\frac{1000001}{3}", Tolerance(rel=1e-5))
    assert math_equal("\\frac{1}{3}", "0.3333333", Tolerance(rel=1e-6))


def test_numeric_reference_answers():
    assert score(0.5, "\\frac{1}{2}").accuracy == 1.0
    assert score(12, "12").accuracy == 1.0


def test_a_list_answer_lists_alternatives():
    assert score(["4", "-4"], "-4").accuracy == 1.0


def test_no_answer_scores_zero_with_nothing_extracted():
    result = VERIFIERS.get("math")("", {"answer": "1"}, {"fallback": "none"})
    assert result.accuracy == 0.0 and result.extracted is None


def test_extracted_answer_is_reported():
    assert score("1", " \\frac{2}{2} ").extracted == "\\frac{2}{2}"


def test_missing_reference_is_an_error():
    with pytest.raises(ValueError, match="no answer"):
        VERIFIERS.get("math")("<answer>1</answer>", {}, {})


def test_an_equation_is_not_one_of_its_sides():
    assert score("7 = 11a+c", "11a+c").accuracy == 0.0
    assert score("7 = 11a+c", "c = 7 - 11a").accuracy == 1.0


def test_a_named_variable_is_answered_by_its_value():
    assert score("y = 2x + 1", "2x + 1").accuracy == 1.0


def test_an_infinite_sequence_is_not_a_finite_list():
    assert score("1, 2, 3", "1, 2, 3, ...").accuracy == 0.0
    assert score("1, 2, 3, \\ldots", "1, 2, 3, \\dots").accuracy == 1.0


def test_a_line_break_does_not_make_a_mixed_number():
    assert score("11\\frac{5}{6}", "11\n5/6").accuracy == 0.0


def test_a_percentage_of_a_fraction_is_only_its_value():
    assert score("\\frac{50}{3}", "16\\frac{2}{3}\\%").accuracy == 0.0
    assert score("\\frac{1}{6}", "16\\frac{2}{3}\\%").accuracy == 1.0


def test_decimal_comma_auto():
    assert score("1.22", "1,22").accuracy == 1.0
    assert score("1000", "1,000").accuracy == 1.0
    assert score("111", "0,111").accuracy == 0.0


def test_decimal_comma_param():
    assert score("1", "1,000", decimal_comma="always").accuracy == 1.0
    assert score("1.5", "1,5", decimal_comma="never").accuracy == 0.0


def test_a_bad_decimal_comma_param_is_refused():
    with pytest.raises(ValueError, match="decimal_comma"):
        score("1", "1", decimal_comma="sometimes")


def test_list_order_follows_the_question():
    sample = {"answer": "2, 3", "question": "List the roots in increasing order."}
    assert VERIFIERS.get("math")("<answer>3, 2</answer>", sample, {}).accuracy == 0.0
    sample["question"] = "Find all roots."
    assert VERIFIERS.get("math")("<answer>3, 2</answer>", sample, {}).accuracy == 1.0


def test_list_order_param():
    assert score("1, 2, 3", "3, 1, 2", list_order="ordered").accuracy == 0.0
    assert score("(1, 2)", "(2, 1)", list_order="unordered").accuracy == 1.0


def test_a_tuple_is_not_a_set():
    assert score("\\{1, 2\\}", "(1, 2)").accuracy == 0.0


def test_references_written_as_text_are_extracted():
    assert score("The answer is 12.", "12").accuracy == 1.0
    assert score("Step 1: 3 + 4 = 7\n#### 7", "7").accuracy == 1.0
    assert score("We get $x = \\boxed{3}$.", "3").accuracy == 1.0


def test_number_words():
    assert score("12", "twelve").accuracy == 1.0 and score("five", "5").accuracy == 1.0


def test_a_text_reference_in_a_sentence():
    assert score("even", "The function is even.").accuracy == 1.0
    assert score("even", "The function is neither even nor odd.").accuracy == 0.0


def test_an_exact_value_with_its_approximation():
    assert score("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}} \\approx 0.577").accuracy == 1.0


def test_a_rounded_reference_accepts_an_exact_answer_that_rounds_to_it():
    assert score("2.83", "2\\sqrt{2}").accuracy == 1.0
    assert score("2.82", "2\\sqrt{2}").accuracy == 0.0


def test_answers_in_other_languages():
    assert VERIFIERS.get("math")("所以答案是 **15 页**。", {"answer": "15"}, {}).accuracy == 1.0
    assert VERIFIERS.get("math")("Ответ: 2,5 м/с", {"answer": "2.5"}, {}).accuracy == 1.0


def test_a_renamed_variable_is_a_different_answer_by_default():
    assert score("f(x)", "f(y)").accuracy == 0.0
    assert score("2x + y", "2a + b").accuracy == 0.0


def test_rename_variables_accepts_the_reference_with_its_variables_renamed():
    assert score("f(x)", "f(y)", rename_variables=True).accuracy == 1.0
    assert score("2x + y", "2a + b", rename_variables=True).accuracy == 1.0


def test_rename_variables_still_needs_the_same_expression():
    assert score("2x + y", "2a + 2b", rename_variables=True).accuracy == 0.0
    assert score("x^2", "a^3", rename_variables=True).accuracy == 0.0
    assert score("x + y", "a", rename_variables=True).accuracy == 0.0  # two variables are not one


def test_inequalities_answer_a_set_reference_by_default():
    assert score("x \\in [-2, 7]", "-2 \\le x \\le 7").accuracy == 1.0


def test_relation_answers_set_false_refuses_inequalities_for_a_set_reference():
    assert score("x \\in [-2, 7]", "-2 \\le x \\le 7", relation_answers_set=False).accuracy == 0.0
    assert score("(-\\infty, 3)", "x < 3", relation_answers_set=False).accuracy == 0.0


def test_relation_answers_set_false_still_accepts_a_set_for_inequalities():
    assert score("-2 \\le x \\le 7", "[-2, 7]", relation_answers_set=False).accuracy == 1.0
    assert score("-2 \\le x \\le 7", "-2 \\le x \\le 7", relation_answers_set=False).accuracy == 1.0


@pytest.mark.parametrize("name", ["rename_variables", "relation_answers_set"])
def test_a_switch_that_is_not_a_boolean_is_refused(name):
    with pytest.raises(ValueError, match=name):
        score("1", "1", **{name: "yes"})
