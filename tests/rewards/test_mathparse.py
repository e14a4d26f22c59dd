"""The safe math parser: normalisation, grammar and bounds."""
from __future__ import annotations

from fractions import Fraction

import pytest

from mmrl.rewards.mathparse import ParseError, normalize, parse_answer, parse_expression, plain_number
from mmrl.rewards.mathparse.evaluate import exact
from mmrl.rewards.mathparse.values import Interval, Matrix, Relation, Scalar, Seq, Text, Union_


@pytest.mark.parametrize("raw, text, percent", [
    ("$1,000$", "1000", False),
    ("1{,}000", "1000", False),
    ("1\\,000", "1000", False),
    ("50\\%", "50", True),
    ("45^\\circ", "45", False),
    ("45°", "45", False),
    ("5 \\text{ cm}^2", "5", False),
    ("12 apples", "12", False),
    ("3 m", "3", False),
    ("\\$5.00", "5.00", False),
    ("\\dfrac{1}{2}", "\\frac{1}{2}", False),
    ("2\\frac{1}{2}", "(2+\\frac{1}{2})", False),
    ("2 1/2", "(2+\\frac{1}{2})", False),
    ("\\left( 1, 2 \\right]", "( 1, 2 ]", False),
    ("2x", "2x", False),
    ("\\text{even}", "even", False),
])
def test_normalize(raw, text, percent):
    assert normalize(raw).text == text and normalize(raw).percent is percent


@pytest.mark.parametrize("text, value", [
    ("-3", Fraction(-3)), ("0.25", Fraction(1, 4)), ("1e-3", Fraction(1, 1000)), ("\\frac{3}{4}", Fraction(3, 4)),
    ("-\\frac{3}{4}", Fraction(-3, 4)), ("7/8", Fraction(7, 8)), ("x", None), ("\\frac{3}{0}", None),
])
def test_plain_number_fast_path(text, value):
    assert plain_number(text) == value


@pytest.mark.parametrize("text, value", [
    ("2^{10}", 1024), ("\\frac12", Fraction(1, 2)), ("3\\cdot 4 - 2", 10), ("-2^2", -4), ("2^3^2", 512),
    ("5!", 120), ("\\binom{5}{2}", 10), ("|3-5|", 2), ("\\sqrt{16}", 4), ("\\sqrt[3]{27}", 3), ("(2)(3)", 6),
    ("8^{1/3}", 2), ("2^{-1}", Fraction(1, 2)), ("1.5\\times10^{3}", 1500),
])
def test_exact_values(text, value):
    assert exact(parse_expression(text)) == value


def test_implicit_multiplication_and_functions():
    assert parse_expression("2x") == ("*", (("n", Fraction(2)), ("s", "x")))
    assert parse_expression("\\sin^2 x") == ("^", ("f", "sin", ("s", "x")), ("n", Fraction(2)))
    assert parse_expression("\\log_2 8") == ("log", ("n", Fraction(2)), ("n", Fraction(8)))


@pytest.mark.parametrize("text", ["apples", "2 3", "x +", "\\unknown{2}", "f'(x)", ""])
def test_what_the_parser_refuses(text):
    with pytest.raises(ParseError):
        parse_expression(text)


def test_nesting_is_bounded():
    with pytest.raises(ParseError, match="nested"):
        parse_expression("(" * 60 + "1" + ")" * 60)


def test_literal_size_is_bounded():
    with pytest.raises(ParseError):
        parse_expression("1" * 400)
    with pytest.raises(ParseError):
        parse_expression("1e99999")


def test_token_count_is_bounded():
    with pytest.raises(ParseError, match="too many"):
        parse_expression("+".join(["1"] * 300))


def test_exact_refuses_huge_powers():
    assert exact(parse_expression("10^{10^{10}}")) is None


@pytest.mark.parametrize("text, kind", [
    ("x = 2", Relation), ("(1, 2]", Interval), ("\\{1, 2\\}", Seq), ("(1, 2)", Seq), ("1 < x \\le 3", Interval),
    ("(-\\infty, 3) \\cup (4, \\infty)", Union_), ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", Matrix),
    ("yes", Text), ("3\\pi/4", Scalar), ("x=2 or x=3", Seq),
])
def test_answer_structure(text, kind):
    assert isinstance(parse_answer(text), kind)


def test_greater_than_is_stored_as_less_than():
    rel = parse_answer("x > 2")
    assert rel.op == "<" and rel.lhs.text == "2" and rel.rhs.text == "x"


def test_plus_minus_gives_both_values():
    value = parse_answer("1 \\pm \\sqrt{2}")
    assert value.kind == "list" and [v.text for v in value.items] == ["1 + \\sqrt{2}", "1 - \\sqrt{2}"]


def test_over_long_answers_are_text():
    assert isinstance(parse_answer("1+" * 600 + "1"), Text)
