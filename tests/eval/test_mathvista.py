"""MathVista end to end on the shipped records: the prompt, each answer type, the audit fields."""
from __future__ import annotations

from tests.eval.eval_helpers import score


def test_prompt_is_the_official_query_hint_question_then_choices(samples_of):
    from mmrl.prompting import render_choices

    s = samples_of("mathvista")["1"]
    assert render_choices(s["question"], s["choices"]) == (
        "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n"
        "Question: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11\n(C) 6/11\n(D) 3/5")


def test_unit_and_precision_go_into_the_question_and_params(samples_of):
    s = samples_of("mathvista")["3"]
    assert s["question"].endswith("Question: What is the length of the side AB? (Unit: cm)")
    assert "one decimal place" in s["question"]
    assert s["reward"] == {"verifier": "mathvista",
                           "params": {"question_type": "free_form", "answer_type": "float", "precision": 1}}


def test_breakdown_fields_are_kept_in_meta(samples_of):
    meta = samples_of("mathvista")["3"]["meta"]
    assert meta["skills"] == ["geometry reasoning", "algebraic reasoning"]
    assert (meta["context"], meta["grade"], meta["source"]) == ("geometry diagram", "high school", "Geometry3K")


def test_answer_tag_content_is_what_the_normaliser_receives(samples_of):
    j = score("mathvista", "<think>8 of 11 are blue</think><answer>B</answer>", samples_of("mathvista")["1"])
    assert (j.extracted, j.normalised, j.correct, j.rule) == ("B", "8/11", True, "answer_tag")


def test_boxed_answer_inside_the_answer_tag_is_unboxed(samples_of):
    j = score("mathvista", "<answer>\\boxed{(B) 8/11}</answer>", samples_of("mathvista")["1"])
    assert (j.extracted, j.normalised, j.correct) == ("(B) 8/11", "8/11", True)


def test_wrong_option_is_marked_wrong_with_its_option_in_the_detail(samples_of):
    j = score("mathvista", "<answer>A</answer>", samples_of("mathvista")["1"])
    assert (j.normalised, j.correct, j.detail) == ("3/11", False, "option A")


def test_option_text_without_letter_is_mapped_by_edit_distance(samples_of):
    j = score("mathvista", "<answer>8/11 of it</answer>", samples_of("mathvista")["1"])
    assert j.normalised == "8/11" and j.correct
    assert j.detail.startswith("no option letter; closest option B at edit distance")


def test_integer_answer_written_as_float_is_truncated_and_correct(samples_of):
    j = score("mathvista", "<answer>2.0</answer>", samples_of("mathvista")["2"])
    assert (j.normalised, j.correct) == ("2", True)


def test_float_answer_is_rounded_to_the_items_precision(samples_of):
    assert score("mathvista", "<answer>3.46</answer>", samples_of("mathvista")["3"]).normalised == "3.5"
    assert score("mathvista", "<answer>3.46</answer>", samples_of("mathvista")["3"]).correct
    assert not score("mathvista", "<answer>1.4</answer>", samples_of("mathvista")["4"]).correct


def test_list_answer_must_match_the_reference_string(samples_of):
    s = samples_of("mathvista")["5"]
    assert score("mathvista", "<answer>[2007, 2008]</answer>", s).correct
    assert not score("mathvista", "<answer>[2007,2008]</answer>", s).correct


def test_bare_response_equal_to_a_choice_is_taken_as_is(samples_of):
    j = score("mathvista", "No", samples_of("mathvista")["6"])
    assert (j.rule, j.correct) == ("exact_choice", True)


def test_without_tag_or_judge_the_rule_fallback_finds_the_final_answer(samples_of):
    vista = samples_of("mathvista")
    j = score("mathvista", "Counting the bars, two exceed 10. So the answer is 2.", vista["2"])
    assert (j.extracted, j.rule, j.correct) == ("2", "answer_is", True)
    j = score("mathvista", "The blue part covers 8 of 11 cells, option (B).", vista["1"])
    assert (j.extracted, j.rule, j.correct) == ("B", "last_letter", True)
    j = score("mathvista", "It peaks from [2007, 2008] here", vista["5"])
    assert (j.rule, j.correct) == ("last_list", True)


def test_unparseable_number_is_wrong_with_a_reason(samples_of):
    j = score("mathvista", "<answer>two</answer>", samples_of("mathvista")["2"])
    assert j.normalised is None and j.correct is False
    assert "does not parse" in j.detail


def test_item_without_answer_is_unscored(samples_of):
    s = dict(samples_of("mathvista")["2"])
    del s["answer"]
    assert score("mathvista", "<answer>2</answer>", s).correct is None
