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


def test_decimal_comma_reading_modes():
    from mmrl.rewards.mathparse.equiv import decimal_comma_reading

    assert decimal_comma_reading("1,22") == "1.22"
    assert decimal_comma_reading("1,000") == "1,000"
    assert decimal_comma_reading("0,111") == "0.111"
    assert decimal_comma_reading("1.234,56") == "1234.56"
    assert decimal_comma_reading("1,000", "always") == "1.000"
    assert decimal_comma_reading("1,5", "never") == "1,5"


def test_number_from_words():
    from mmrl.rewards.mathparse.equiv import number_from_words

    assert number_from_words("Twenty-four") == "24"
    assert number_from_words("negative three") == "-3"
    assert number_from_words("one hundred five") == "105"
    assert number_from_words("apple") is None


def test_text_answer_matches():
    from mmrl.rewards.mathparse.equiv import text_answer_matches

    assert text_answer_matches("No", "No, it is not possible")
    assert text_answer_matches("isosceles", "isosceles triangle")
    assert not text_answer_matches("No", "Yes, because 17 is prime")
    assert not text_answer_matches("even", "even or odd")


def test_normalize_reads_local_number_forms():
    from mmrl.rewards.mathparse import normalize

    assert normalize("15 页").text == "15"
    assert normalize("2,50,000").text == "250000"
    assert normalize("1 000 000").text == "1000000"
    assert normalize("$1{,}5$").text == "1.5"
    assert normalize("0.1\\overline{6}").text == "\\frac{15}{90}"
    assert normalize("all real numbers").text == "(-\\infty, \\infty)"
    assert normalize("2:3").text == "\\frac{2}{3}"
