"""ChartQA relaxed accuracy, case by case against the official rule (google-research/pix2struct
pix2struct/metrics.py relaxed_correctness, max over the labels): the response compared as the
metric receives it, Python's float() for numbers, and a case-insensitive comparison of the texts
as they are. Every verdict here was worked out from that rule and checked against it."""
from __future__ import annotations

import pytest

from mmrl.eval.benchmarks.chartqa import ChartQA, official_prediction, relaxed_correctness

# (response, labels, official verdict, lenient verdict)
CASES = [
    # numbers: within 5% of a non-zero target, read by Python's float()
    ("62", ["62"], True, True),
    ("62.5", ["62"], True, True),
    ("65.2", ["62"], False, False),  # 5.2% off
    ("59", ["62"], True, True),  # 4.8% under
    ("-5.2", ["-5"], True, True),
    ("62.", ["62"], True, True),
    (" 62", ["62"], True, True),  # float() allows surrounding whitespace ...
    ("62\n", ["62"], True, True),
    ("1_000", ["1000"], True, True),  # ... and underscores
    ("1e3", ["1000"], True, True),
    ("1,000", ["1000"], False, False),  # but no thousands separators: then the texts differ
    ("$62", ["62"], False, False),
    # percentages: a trailing % divides by 100, on either side
    ("45%", ["0.45"], True, True),
    ("0.45", ["45%"], True, True),
    ("45", ["45%"], False, False),
    ("45 %", ["0.45"], True, True),
    # a zero target is compared as text
    ("0", ["0"], True, True),
    ("0.0", ["0"], False, False),
    # text: case-insensitive, nothing stripped, nothing cut out
    ("Yes", ["Yes"], True, True),
    ("yes", ["Yes"], True, True),
    (" Yes", ["Yes"], False, True),
    ("Yes.", ["Yes"], False, False),
    ("Orange bar", ["Orange"], False, False),
    ("The answer is 62.", ["62"], False, True),
    ("So the answer is Yes", ["Yes"], False, True),
    ("\\boxed{62}", ["62"], False, True),
    # the <answer> part is what the metric receives, its padding stripped
    ("<answer>62</answer>", ["62"], True, True),
    ("<think>the bar reads 62</think><answer> Yes </answer>", ["Yes"], True, True),
    ("<answer>The answer is 62.</answer>", ["62"], False, False),
    # several labels: the best one counts
    ("2016", ["2015", "2016"], True, True),
    ("2017", ["2015", "2016"], True, True),  # 2017 is within 5% of 2015 (0.1%)
    ("Asia", ["Europe", "America"], False, False),
]


def chartqa_score(response, labels, **params):
    sample = {"answer": labels[0], "meta": {"labels": labels} if len(labels) > 1 else {}}
    return ChartQA().score(response, sample, params)


def test_numbers_within_five_percent_of_the_target_match():
    assert relaxed_correctness("62", "59") and not relaxed_correctness("62", "65.2")


def test_float_reads_padding_underscores_and_exponents():
    assert relaxed_correctness("62", " 62") and relaxed_correctness("1000", "1_000") and relaxed_correctness("1000", "1e3")


def test_thousands_separators_are_not_numbers():
    assert not relaxed_correctness("1000", "1,000")


def test_text_is_compared_without_stripping():
    assert relaxed_correctness("Yes", "yes") and not relaxed_correctness("Yes", " Yes")


def test_a_sentence_is_not_a_number():
    assert not chartqa_score("The answer is 62.", ["62"]).correct


def test_the_raw_response_is_the_prediction_without_an_answer_part():
    assert official_prediction("The answer is 62.", {}).text == "The answer is 62."
    assert official_prediction("<answer>62</answer>", {"answer_tag": False}).text == "<answer>62</answer>"


def test_lenient_strips_and_takes_the_answer_phrase():
    j = chartqa_score("The answer is 62.", ["62"], lenient=True)
    assert j.correct and j.detail.endswith("(lenient)")


def test_the_lenient_benchmark_names_its_mode_and_writes_the_param():
    from mmrl.eval.benchmark import get_benchmark

    bench = get_benchmark("chartqa-lenient")
    assert "lenient" in bench.scorer and "official" in get_benchmark("chartqa").scorer
    assert bench.reward_spec() == {"verifier": "chartqa", "params": {"lenient": True}}


@pytest.mark.parametrize("lenient", [False, True], ids=["official", "lenient"])
def test_every_casebook_case_gets_its_verdict(lenient):
    wrong = [case for case in CASES if bool(chartqa_score(case[0], case[1], lenient=lenient).correct)
             != case[3 if lenient else 2]]
    assert wrong == []
