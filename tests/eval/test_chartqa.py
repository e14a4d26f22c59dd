"""ChartQA relaxed accuracy (pix2struct), on the shipped records."""
from __future__ import annotations

from tests.eval.eval_helpers import score

from mmrl.eval.benchmarks.chartqa import relaxed_correctness


def test_numbers_within_five_percent_are_correct():
    assert relaxed_correctness("26", "27.2")  # 4.6%
    assert relaxed_correctness("26", "24.8")  # 4.6% under
    assert not relaxed_correctness("26", "27.4")  # 5.4%


def test_percent_sign_divides_by_a_hundred():
    assert relaxed_correctness("45%", "0.45")
    assert relaxed_correctness("0.45", "45%")
    assert not relaxed_correctness("45%", "45")


def test_text_answers_need_a_case_insensitive_exact_match():
    assert relaxed_correctness("Orange", "orange")
    assert not relaxed_correctness("Orange", "orange bar")


def test_zero_target_falls_back_to_string_equality_as_in_pix2struct():
    assert relaxed_correctness("0", "0")
    assert not relaxed_correctness("0", "0.0")


def test_samples_carry_the_human_or_augmented_split(samples_of):
    types = [s["meta"]["type"] for s in samples_of("chartqa").values()]
    assert types == ["human", "augmented", "human", "augmented"]


def test_scoring_uses_the_answer_tag_else_the_whole_response(samples_of):
    s = samples_of("chartqa")["chartqa-test-0"]
    assert score("chartqa", "<answer>25.5</answer>", s).correct
    j = score("chartqa", " 26 ", s)  # float() reads the padded number; the text is kept as it is
    assert (j.extracted, j.rule, j.correct) == (" 26 ", "response", True)
    assert not score("chartqa", "twenty six", s).correct
