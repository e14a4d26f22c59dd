"""Bounds that keep every parse and evaluation of model output small and fast.

Response text is untrusted: it is never evaluated as code, and before any arithmetic is done on
it these limits reject what could hang or exhaust memory (``10^{10^{10^{10}}}``, ``1000000!``,
50 KB answers, 10,000 nested braces). A rejected answer is not an error: it is compared as
normalised text instead, which is what a grader can still do safely.
"""
from __future__ import annotations

MAX_ANSWER_CHARS = 1000  # longer answers are compared as text only
MAX_TOKENS = 400  # tokens of one answer
MAX_DEPTH = 40  # nesting of parentheses, exponents, signs and functions
MAX_ITEMS = 64  # elements of a tuple, set, list or matrix
MAX_LITERAL_DIGITS = 300  # digits of one number literal
MAX_LITERAL_EXPONENT = 400  # |e| of a literal such as 1e-5
MAX_EXACT_BITS = 20_000  # size of an exact rational result (numerator or denominator)
MAX_EXACT_FACTORIAL = 300  # n! computed exactly only up to here
MAX_MAGNITUDE_BITS = 100_000  # |log2| of any numeric intermediate value
MAX_NUMERIC_FACTORIAL = 10_000


class ParseError(ValueError):
    """The text is not an expression this parser accepts; it is then compared as text."""


class TooLarge(ArithmeticError):
    """A value would exceed the bounds above; numeric comparison is then inconclusive."""
