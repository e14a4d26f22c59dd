"""The deterministic extraction rules shared by the benchmarks."""
from __future__ import annotations

from mmrl.eval import extract as ex
from mmrl.eval.edit_distance import edit_distance, most_similar
from mmrl.eval.latex_value import latex_value


def test_answer_tag_uses_the_reward_extractor_and_narrows_to_a_box():
    assert ex.answer_tag("<answer>1</answer> <answer> \\boxed{2} </answer>").text == "2"
    assert ex.answer_tag("<think>x</think><answer>7").text == "7"
    assert ex.answer_tag("<answer></answer>") == ex.Extraction("", "answer_tag")
    assert ex.answer_tag("no tags") is None


def test_rule_based_takes_boxes_and_answer_phrases_but_no_fallback():
    assert ex.rule_based("so \\boxed{\\frac{1}{2}}") == ex.Extraction("\\frac{1}{2}", "boxed")
    assert ex.rule_based("The answer is 3.\nNo wait, the answer is 4.") == ex.Extraction("4", "answer_is")
    assert ex.rule_based("<think>the answer is 3</think>just 5") is None


def test_last_number_and_letter_and_list():
    assert ex.last_number("from 1,200 to 3,450.5 units") == "3450.5"
    assert ex.last_letter("A is wrong, (C) is right", 4) == "C"
    assert ex.last_letter("E is not an option", 4) is None
    assert ex.last_list("[1, 2] then [3, 4]") == "[3, 4]"


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


def test_latex_value_refuses_power_towers_instead_of_computing_them():
    assert latex_value("9^{9^{9^{9}}}") is None
    assert latex_value("10^{10^{10}}") is None
    assert latex_value("2^{10}") == 1024.0


def test_latex_value_reads_python_powers_and_latex_percent():
    assert latex_value("2**3") == 8.0
    assert latex_value("50\\%") == 0.5


def test_latex_value_uses_mmrls_own_parser_and_never_runs_text():
    assert latex_value("__import__('os').getcwd()") is None
    assert latex_value("e") is not None and abs(latex_value("e") - 2.718281828) < 1e-6
