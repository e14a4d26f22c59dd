"""R1-VL's StepRAR and StepRVR."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.steps import key_step_match, normalize_step, valid_structure

GOOD = ("<think>The image shows the expression 3 + 4 × 2 written in black.\n"
        "Step 1: 4 × 2 = 8.\nStep 2: 3 + 8 = 11.</think><answer>11</answer>")
SAMPLE = {"answer": "11", "key_steps": [["4\\times 2=8", "4*2=8"], "3 + 8 = 11", "\\frac{6}{3}=2"]}


def test_key_steps_are_matched_with_alternatives_and_normalisation():
    assert key_step_match(GOOD, SAMPLE["key_steps"]) == pytest.approx(2 / 3)


def test_frac_and_slash_forms_are_the_same_step():
    assert normalize_step("\\frac{6}{3} = 2") == normalize_step("6/3=2") == "6/3=2"


def test_no_key_steps_match_zero():
    assert key_step_match(GOOD, []) == 0.0


def test_steprar_right_answer_is_one_plus_alpha_k():
    result = VERIFIERS.get("steprar")(GOOD, SAMPLE, {})
    assert result.components["step_rar"] == pytest.approx(1 + 0.1 * 2 / 3)
    assert result.accuracy == 1.0


def test_steprar_wrong_answer_is_alpha_k():
    result = VERIFIERS.get("steprar")(GOOD.replace("<answer>11", "<answer>12"), SAMPLE, {})
    assert result.components["step_rar"] == pytest.approx(0.1 * 2 / 3)


def test_steprar_no_answer_is_zero_unless_the_authors_code_is_asked_for():
    response = "Step 1: 4 × 2 = 8."
    params = {"fallback": "none"}
    assert VERIFIERS.get("steprar")(response, SAMPLE, params).components["step_rar"] == 0.0
    params["no_answer"] = "alpha_k"
    assert VERIFIERS.get("steprar")(response, SAMPLE, params).components["step_rar"] == pytest.approx(1 / 30)


def test_alpha_is_a_param():
    result = VERIFIERS.get("steprar")(GOOD, SAMPLE, {"alpha": 0.5})
    assert result.components["step_rar"] == pytest.approx(1 + 0.5 * 2 / 3)


def test_valid_structure():
    assert valid_structure(GOOD)


def test_structure_needs_a_description_first():
    assert not valid_structure("Step 1: 4 × 2 = 8.\nStep 2: 3 + 8 = 11. The answer is 11")


def test_structure_needs_steps_numbered_in_order():
    text = "The image shows a sum written in ink.\nStep 1: a.\nStep 3: b.\nThe answer is 11"
    assert not valid_structure(text)


def test_structure_needs_the_answer_after_the_last_step():
    text = "The image shows a sum written in ink.\nThe answer is 11.\nStep 1: a.\nStep 2: b."
    assert not valid_structure(text)


def test_numbered_lines_count_as_steps():
    text = "The image shows a sum written in ink.\n1. four times two is 8\n2. add 3\n\\boxed{11}"
    assert valid_structure(text)


def test_steprvr_reports_validity_and_accuracy():
    result = VERIFIERS.get("steprvr")(GOOD, SAMPLE, {})
    assert result.components["step_rvr"] == 1.0 and result.accuracy == 1.0
