"""The MATH-Vision scorer, case by case against the official rules (mathllm/MATH-V
evaluation/evaluate.py and utils.py): the response-level cuts, find_math_answer, and is_equal,
whose value branch is latex2sympy + Python's eval rounded to 2 places. Every verdict here was
worked out from those rules and checked against them."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from mmrl.eval.benchmarks.mathvision import MathVision, cut_answer, eval_tuple, is_equal, official_input
from mmrl.eval.latex_value import official_number

ANGLES = ["30°", "45°", "60°", "90°", "120°"]


def official(response, answer, choices=None, **params):
    sample = {"answer": answer, **({"choices": choices} if choices else {})}
    return MathVision().score(response, sample, {"answer_tag": False, **params})


def fidelity_module():
    path = Path(__file__).parents[2] / "benchmarks" / "mathvision_fidelity.py"
    spec = importlib.util.spec_from_file_location("mathvision_fidelity", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- 1. raw responses: the official cuts ---------------------------------------------------------
def test_a_worked_solution_is_cut_at_its_last_box():
    assert official("Each row adds 10, so 50 + 10 = 60.\n\n\\boxed{60}", "60").correct


def test_the_box_is_taken_greedily_to_the_last_closing_brace():
    assert official("The ratio is \\boxed{\\frac{\\sqrt{3}}{2}} in the end.", "\\frac{\\sqrt{3}}{2}").correct


def test_the_box_runs_from_the_first_oxed_to_the_last_brace_as_the_greedy_regex_does():
    from mmrl.eval.benchmarks.mathvision import greedy_box

    assert greedy_box("a oxed{1} b oxed{2} c") == "1} b oxed{2"
    assert greedy_box("oxed{" * 1000) is None


def test_a_hostile_tuple_is_compared_as_text():
    from mmrl.eval.benchmarks.mathvision import MAX_TUPLE_ELEMENTS

    huge = "(" + ",".join(["1"] * (MAX_TUPLE_ELEMENTS + 1)) + ")"
    assert eval_tuple(huge) == huge


def test_with_several_boxes_the_last_one_counts():
    assert official("First \\boxed{5} pieces, then \\boxed{4} cuts.", "4").correct


def test_answer_phrase_keeps_the_rest_of_its_line_up_to_a_sentence_end():
    assert cut_answer("Therefore the final answer is 12. We checked it.") == ("12", "answer_phrase")
    assert not official("So the answer is 10 and nothing else.", "10").correct


def test_the_number_after_the_last_is_is_the_answer():
    assert cut_answer("Counting the edges, the total is 14.") == ("14", "is_number")


def test_a_response_ending_in_an_option_letter_is_that_letter():
    assert cut_answer("The shape is the one labelled (D).") == ("D", "option_letter")


def test_option_text_counts_but_text_left_in_braces_does_not():
    days = ["Wednesday", "Thursday", "Friday", "Tuesday", "Sunday"]
    assert official("So it was \\boxed{Wednesday}", "A", days).correct
    assert not official("So it was \\boxed{\\text{Wednesday}}", "A", days).correct  # "{wednesday}"


def test_the_answer_part_is_what_the_official_script_receives_when_there_is_one():
    assert official_input("<think>it is 3</think><answer>The answer is 5</answer>", {}) == ("The answer is 5", True)
    assert official_input("<answer>5</answer>", {"answer_tag": False}) == ("<answer>5</answer>", False)
    assert MathVision().score("<think>..</think><answer>The answer is 5.</answer>", {"answer": "5"}, {}).correct


# --- 2. tolerance: both sides rounded to 2 decimals ----------------------------------------------
def test_values_equal_after_rounding_to_two_places_match():
    assert is_equal("\\pi", "3.14") and is_equal("\\sqrt{2}", "1.41") and is_equal("\\frac{1}{3}", "0.333")


def test_there_is_no_other_tolerance():
    assert not is_equal("100", "100.4")
    assert not is_equal("\\pi", "3.15")


def test_rounding_is_pythons_on_binary_floats():
    assert is_equal("0.12", "0.125") and not is_equal("0.13", "0.125")


def test_tuples_are_rounded_element_by_element_and_printed_as_python_does():
    assert eval_tuple("(2*3,5+2)") == "(6,7)"
    assert eval_tuple("(0.5,1)") == "(0.5,1)"
    assert not is_equal("(2,3)", "(2/1,3)")  # 2/1 prints 2.0


# --- 3. ratios -----------------------------------------------------------------------------------
def test_a_ratio_is_its_quotient():
    assert official_number("3:4") == 0.75
    assert is_equal("3:4", "6:8") and is_equal("3:4", "\\frac{3}{4}") and not is_equal("3:4", "4:3")


# --- 4. official quirks that reject --------------------------------------------------------------
def test_a_unicode_degree_sign_is_not_read_but_the_latex_one_is_stripped():
    assert not official("\\boxed{60°}", "60").correct
    assert official("\\boxed{60^\\circ}", "60").correct


def test_frac_without_braces_is_not_read():
    assert official_number("\\frac12") is None
    assert not official("\\boxed{\\frac12}", "0.5").correct


def test_float_exponent_syntax_is_a_product_with_e():
    assert official_number("6e1") is None


def test_a_reference_the_official_parser_cannot_read_matches_only_as_text():
    assert not official("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt3}{2}").correct


def test_an_option_text_with_a_degree_sign_needs_the_sign():
    assert not official("\\boxed{45^\\circ}", "B", ANGLES).correct
    assert official("\\boxed{45°}", "B", ANGLES).correct


def test_names_python_math_lacks_are_no_numbers():
    assert official_number("\\ln 2") is None  # sympy prints log(2, E)
    assert official_number("|-3|") is None  # Abs(-3)
    assert official_number("x") is None


def test_letters_never_read_as_in_a_run_past_its_first_prose_answer():
    assert official_number("x=5") is None
    assert not is_equal("x=5", "5")


# --- 5. official quirks that accept --------------------------------------------------------------
def test_thousands_separators_are_read():
    assert official_number("1,000") == 1000 and official_number("3,0000") == 0
    assert official_number("12,5") is None  # a list, not a decimal comma


def test_the_parser_stops_at_a_token_that_cannot_continue():
    assert official_number("6)") == 6 and official_number("5.)") == 5 and official_number("(5))") == 5


def test_text_after_a_box_is_ignored():
    assert official("\\boxed{5} apples in all.", "5").correct


def test_log_without_a_base_is_base_ten():
    assert abs(official_number("\\log 100") - 2.0) < 1e-12


# --- lenient mode ----------------------------------------------------------------------------------
def test_lenient_accepts_what_only_parser_defects_reject():
    assert official("\\boxed{60°}", "60", lenient=True).correct
    assert official("\\boxed{\\frac12}", "0.5", lenient=True).correct
    assert official("\\boxed{45^\\circ}", "B", ANGLES, lenient=True).detail == "matches the option text (lenient)"


def test_lenient_still_rejects_wrong_values():
    assert not official("\\boxed{61°}", "60", lenient=True).correct


def test_the_lenient_benchmark_names_its_mode_and_writes_the_param():
    from mmrl.eval.benchmark import get_benchmark

    bench = get_benchmark("mathvision-lenient")
    assert "lenient" in bench.scorer and "official" in get_benchmark("mathvision").scorer
    assert bench.reward_spec() == {"verifier": "mathvision", "params": {"lenient": True}}


# --- the casebook ------------------------------------------------------------------------------------
def test_every_casebook_case_gets_the_official_verdict():
    module = fidelity_module()
    wrong = [case for case in module.CASES if module.mmrl_verdict(case, lenient=False) != case[4]]
    assert wrong == []


def test_every_casebook_case_gets_its_lenient_verdict():
    module = fidelity_module()
    wrong = [case for case in module.CASES if module.mmrl_verdict(case, lenient=True) != case[5]]
    assert wrong == []


def test_rescoring_reads_a_local_copy_of_the_published_outputs(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "outputs" / "m").mkdir(parents=True)
    (tmp_path / "data" / "test.jsonl").write_text(
        '{"id": "1", "answer": "60", "options": []}\n{"id": "2", "answer": "B", "options": ["1", "2"]}\n')
    (tmp_path / "outputs" / "m" / "run.jsonl").write_text(
        '{"id": "1", "response": "So \\\\boxed{60}", "correct": true}\n'
        '{"id": "2", "response": "The answer is (A).", "correct": true}\n')
    scored, same, differences = fidelity_module().rescore(tmp_path)
    assert (scored, same) == (2, 1)
    assert differences[0].startswith("outputs/m/run.jsonl id 2: published True, mmrl False")
