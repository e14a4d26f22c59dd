"""The deterministic extraction rules shared by the benchmarks."""
from __future__ import annotations

from mmrl.eval import extract as ex
from mmrl.eval.edit_distance import edit_distance, most_similar
from mmrl.eval.latex_value import latex_value


def test_answer_part_takes_the_last_tag_and_an_unclosed_one_runs_to_the_end():
    assert ex.answer_part("<answer>1</answer> <answer> 2 </answer>") == "2"
    assert ex.answer_part("<think>x</think><answer>7") == "7"
    assert ex.answer_part("no tags") is None


def test_boxed_balances_nested_braces_and_knows_glm_boxes():
    assert ex.boxed("so \\boxed{\\frac{1}{2}} and \\boxed{3}") == "3"
    assert ex.boxed("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert ex.boxed("<|begin_of_box|>42<|end_of_box|>") == "42"
    assert ex.unbox("\\boxed{B}") == "B" and ex.unbox("B and \\boxed{C}") == "B and \\boxed{C}"


def test_answer_phrase_takes_the_last_one_without_its_period():
    assert ex.answer_phrase("The answer is 3.\nNo wait, the answer is 4.") == "4"
    assert ex.answer_phrase("Final answer: **12**") == "12"
    assert ex.answer_phrase("nothing here") is None


def test_last_number_and_letter_and_list():
    assert ex.last_number("from 1,200 to 3,450.5 units") == "3450.5"
    assert ex.last_letter("A is wrong, (C) is right", 4) == "C"
    assert ex.last_letter("E is not an option", 4) is None
    assert ex.last_list("[1, 2] then [3, 4]") == "[3, 4]"


def test_final_answer_falls_back_to_the_last_line():
    assert ex.final_answer("thinking...\n  42  \n") == ex.Extraction("42", "last_line")
    assert ex.final_answer("   ") == ex.Extraction(None, "empty")


def test_edit_distance_against_hand_computed_values():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert most_similar("8/12", ["3/11", "8/11"]) == (1, 1)


def test_latex_value_reads_plain_numeric_latex_only():
    assert latex_value("\\frac{3}{4}") == 0.75
    assert abs(latex_value("2\\sqrt{3}") - 3.4641016) < 1e-6
    assert abs(latex_value("\\pi/2") - 1.5707963) < 1e-6
    assert latex_value("\\sqrt[3]{8}") == 2.0
    assert latex_value("x+1") is None and latex_value("\\infty") is None and latex_value("(1,2)") is None
