"""R1-VL's StepRAR and StepRVR, as the authors' code (jingyi0000/R1-VL, src/r1-vl/src/open_r1/grpo.py) does."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.steps import has_answer, key_step_match, normalize_step, step_texts, valid_structure

# Mulberry's format, as the warm-up data teaches it (converted to <think>/<answer>).
GOOD = ("<think>### Image Description:\nThe image shows the expression 3 + 4 × 2 written in black.\n"
        "### Rationales:\nMultiplication comes before addition.\n"
        "### Let's think step by step.\n### Step 1:\n4 × 2 = 8.\n### Step 2:\n3 + 8 = 11.\n"
        "</think><answer>11</answer>")
MULBERRY = GOOD.replace("<think>", "").replace("</think><answer>", "\n### The final answer is: ").replace(
    "</answer>", "")
SAMPLE = {"answer": "11", "key_steps": [["4\\times 2=8", "4*2=8"], "3 + 8 = 11", "\\frac{6}{3}=2"]}


def test_key_steps_are_matched_with_alternatives_and_normalisation():
    assert key_step_match(GOOD, SAMPLE["key_steps"]) == pytest.approx(2 / 3)


def test_key_steps_count_only_inside_step_sections():
    # the same equations in the description and the answer, none in the steps: no match
    text = ("### Image Description:\n4 × 2 = 8 and 3 + 8 = 11.\n### Rationales:\nOrder.\n"
            "### Step 1:\nadd them.\n### The final answer is: 3 + 8 = 11")
    assert key_step_match(text, SAMPLE["key_steps"]) == 0.0


def test_a_step_runs_to_the_next_header_or_the_end_of_the_thinking():
    assert step_texts(GOOD) == "4 × 2 = 8. 3 + 8 = 11.\n"


def test_frac_and_slash_forms_are_the_same_step():
    assert normalize_step("\\frac{6}{3} = 2") == normalize_step("6/3=2") == "6/3=2"


def test_no_key_steps_match_zero():
    assert key_step_match(GOOD, []) == 0.0


def test_steprar_right_answer_is_one_plus_alpha_k():
    result = VERIFIERS.get("steprar")(GOOD, SAMPLE, {})
    assert result.components["step_rar"] == pytest.approx(1 + 0.1 * 2 / 3)
    assert result.accuracy == 1.0


def test_steprar_reads_the_mulberry_final_answer():
    result = VERIFIERS.get("steprar")(MULBERRY, SAMPLE, {})
    assert result.accuracy == 1.0 and result.components["step_rar"] == pytest.approx(1 + 0.1 * 2 / 3)


def test_steprar_wrong_answer_is_alpha_k():
    result = VERIFIERS.get("steprar")(GOOD.replace("<answer>11", "<answer>12"), SAMPLE, {})
    assert result.components["step_rar"] == pytest.approx(0.1 * 2 / 3)


def test_steprar_no_answer_is_zero_even_where_the_fallback_extracts_a_line():
    # the default fallback (last_line) takes "3 + 8 = 11." out of this, but nothing states an answer
    response = "### Step 1:\n4 × 2 = 8.\n### Step 2:\n3 + 8 = 11."
    assert not has_answer(response)
    result = VERIFIERS.get("steprar")(response, SAMPLE, {"fallback": "last_line"})
    assert result.components["step_rar"] == 0.0


def test_steprar_no_answer_is_alpha_k_when_the_authors_code_is_asked_for():
    response = "### Step 1:\n4 × 2 = 8."
    result = VERIFIERS.get("steprar")(response, SAMPLE, {"no_answer": "alpha_k"})
    assert result.components["step_rar"] == pytest.approx(0.1 / 3)


def test_alpha_is_a_param():
    result = VERIFIERS.get("steprar")(GOOD, SAMPLE, {"alpha": 0.5})
    assert result.components["step_rar"] == pytest.approx(1 + 0.5 * 2 / 3)


@pytest.mark.parametrize("text", [GOOD, MULBERRY])
def test_valid_structure_in_both_answer_forms(text):
    assert valid_structure(text)


def test_structure_needs_the_rationales_section():
    assert not valid_structure(GOOD.replace("### Rationales:", "Rationales:"))


def test_structure_needs_the_image_description():
    assert not valid_structure(GOOD.replace("### Image Description:", ""))


def test_structure_needs_steps_numbered_in_order():
    assert not valid_structure(GOOD.replace("### Step 2:", "### Step 3:"))


def test_structure_needs_the_answer_after_the_last_step():
    text = MULBERRY.replace("### The final answer is: 11", "")
    text = text.replace("### Step 1:", "### The final answer is: 11\n### Step 1:")
    assert not valid_structure(text)


def test_unheaded_steps_are_not_steps():
    text = ("### Image Description:\nA sum.\n### Rationales:\nAdd.\nStep 1: 4 × 2 = 8\n1. add 3\n"
            "### The final answer is: 11")
    assert not valid_structure(text)


def test_steprvr_reports_validity_and_accuracy():
    result = VERIFIERS.get("steprvr")(GOOD, SAMPLE, {})
    assert result.components["step_rvr"] == 1.0 and result.accuracy == 1.0
