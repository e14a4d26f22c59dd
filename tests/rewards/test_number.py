"""The number verifier: tolerance, counting, years, percentages."""
from __future__ import annotations

from fractions import Fraction

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.number import read_number


def run(said, answer, **params):
    return VERIFIERS.get("number")(f"<answer>{said}</answer>", {"answer": answer}, params).accuracy


def test_chart_tolerance_is_two_and_a_half_percent():
    assert run("102", 100) == 1.0
    assert run("102.6", 100) == 0.0


def test_tolerance_params():
    assert run("0.3", 0.0, abs_tol=0.5) == 1.0
    assert run("105", 100, rel_tol=0.05) == 1.0


def test_integer_mode_for_counting():
    assert run("3", 3, integer=True) == 1.0
    assert run("3.01", 3, integer=True) == 0.0


def test_years_are_exact():
    assert run("2016", 2015) == 0.0
    assert run("2016", 2015, years_exact=False) == 1.0


def test_percent_matches_number_and_fraction():
    assert run("45%", 0.45) == 1.0
    assert run("45%", 45) == 1.0


def test_reads_the_number_out_of_a_sentence():
    assert read_number("about 1,250 people") == (Fraction(1250), False)


def test_reads_number_words_for_small_counts():
    assert run("five", 5, integer=True) == 1.0


def test_reads_constant_expressions():
    assert read_number("\\frac{3}{4}") == (Fraction(3, 4), False)
    assert read_number("x = 2^{10}") == (Fraction(1024), False)


def test_no_number_scores_zero():
    assert run("many", 5) == 0.0
