"""K12 and Geometry3K: free-form answers judged by the same ``math`` verifier as training rewards."""
from __future__ import annotations

from tests.eval.eval_helpers import score


def test_k12_equivalent_forms_are_correct(samples_of):
    k12 = samples_of("k12")
    assert score("k12", "<think>r=2</think><answer>4\\pi</answer>", k12["k12-1"]).correct
    assert score("k12", "<answer>1.5</answer>", k12["k12-3"]).correct
    assert score("k12", "<answer>20.0</answer>", k12["k12-2"]).correct


def test_k12_wrong_and_missing_answers(samples_of):
    k12 = samples_of("k12")
    j = score("k12", "<answer>3\\pi</answer>", k12["k12-1"])
    assert (j.correct, j.detail, j.rule) == (False, "not equivalent", "math_verifier")
    assert score("k12", "<answer></answer>", k12["k12-1"]).detail == "no answer found"


def test_k12_breakdown_is_the_subject(samples_of):
    assert [s["meta"]["subject"] for s in samples_of("k12").values()] == ["math", "physics", "math"]


def test_geometry3k_problem_keeps_its_image_mark_and_is_math_verified(samples_of):
    g = samples_of("geometry3k")
    s = g["geometry3k-test-2"]
    assert s["question"] == "<image>Find y." and len(s["images"]) == 1
    assert score("geometry3k", "<answer>\\sqrt{12}</answer>", s).correct
    assert score("geometry3k", "\\boxed{40}", g["geometry3k-test-0"]).correct
    assert not score("geometry3k", "<answer>11</answer>", g["geometry3k-test-1"]).correct
