"""The ``number`` verifier: a single numeric answer within a tolerance (charts, counting)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from mmrl.rewards.base import VerifierResult, param, reference_answers, register_verifier
from mmrl.rewards.extract import extract_from_params
from mmrl.rewards.mathparse import normalize, parse_answer, plain_number
from mmrl.rewards.mathparse.evaluate import exact
from mmrl.rewards.mathparse.values import Relation, Scalar

_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
               "ninety": 90, "hundred": 100, "none": 0, "no": 0})
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d{1,3})?(\s*%)?")
_WORD = re.compile(r"[A-Za-z]+")


def read_number(text: str) -> tuple[Fraction, bool] | None:
    """The number an answer states, and whether it was a percentage.

    A whole answer that is a number or a constant expression (``\\frac{3}{4}``, ``2^{10}``,
    ``x = 5``) is taken as it is; otherwise the last number in the text ("about 42 people"), or
    a number word for small counts ("five").
    """
    if len(text) > 2000:
        text = text[-2000:]
    norm = normalize(text)
    q = plain_number(norm.text)
    if q is not None:
        return q, norm.percent
    value = parse_answer(text)
    if isinstance(value, Relation) and value.op == "=":
        value = value.rhs
    if isinstance(value, Scalar):
        q = exact(value.node)
        if q is not None:
            return q, value.percent
    last = None
    for m in _NUMBER.finditer(text):
        last = m
    if last is not None:
        digits = last.group(0).replace(",", "").replace("%", "").strip()
        return Fraction(digits), last.group(1) is not None
    words = [w.lower() for w in _WORD.findall(text)]
    for w in reversed(words):
        if w in _WORDS:
            return Fraction(_WORDS[w]), False
    return None


def numbers_match(gold: Fraction, pred: Fraction, *, rel_tol: float, abs_tol: float, integer: bool,
                  years_exact: bool) -> bool:
    """Tolerance relative to the reference; counting and year-like references are exact."""
    if integer:
        return pred.denominator == 1 and pred == gold
    if years_exact and gold.denominator == 1 and 1000 <= gold <= 3000:
        return pred == gold
    diff = abs(pred - gold)
    return diff <= Fraction(str(abs_tol)) or diff <= Fraction(str(rel_tol)) * abs(gold)


@register_verifier("number")
def verify_number(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Numeric answers with tolerance: rel_tol (2.5e-2, chart-style), abs_tol, integer=true for counts.

    ``years_exact`` (default true, GLM's chart rule) makes integer references in [1000, 3000]
    exact; a percentage matches both its number and its fraction ("45%" is 45 and 0.45).
    """
    found = extract_from_params(response, params, sentences=True)
    if found.text is None:
        return VerifierResult(0.0, None)
    pred = read_number(found.text)
    if pred is None:
        return VerifierResult(0.0, found.text)
    options = dict(
        rel_tol=param(params, "rel_tol", 2.5e-2, float),
        abs_tol=param(params, "abs_tol", 0.0, float),
        integer=bool(param(params, "integer", False, bool)),
        years_exact=bool(param(params, "years_exact", True, bool)),
    )
    value, percent = pred
    candidates = (value, value / 100) if percent else (value,)
    for gold_text in reference_answers(sample):
        gold = read_number(gold_text)
        if gold is None:
            raise ValueError(f"reference answer {gold_text!r} is not a number")
        golds = (gold[0], gold[0] / 100) if gold[1] else (gold[0],)
        if any(numbers_match(g, p, **options) for g in golds for p in candidates):
            return VerifierResult(1.0, found.text)
    return VerifierResult(0.0, found.text)
