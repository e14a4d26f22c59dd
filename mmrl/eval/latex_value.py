"""The numeric value of a short LaTeX answer (``\\frac{3}{4}``, ``2\\sqrt{3}``, ``\\pi/2``, ``1.5``).

MathVision's official ``is_equal`` rounds to two places the value Python computes from
``latex2sympy`` of both sides, so only answers with a plain numeric value can match
this way. This module gives that value with mmrl's own bounded math parser
(``mmrl.rewards.mathparse``): the text is tokenised by a small grammar into a tuple AST and
evaluated exactly (Fractions) or with mpmath; nothing is handed to Python's evaluator or to
SymPy's parser. Anything it cannot read, anything with a free symbol, and anything beyond the
parser's bounds (``9^{9^{9^9}}``) is None, which the caller scores as "not equal", as the
official ``except`` does.
"""
from __future__ import annotations

import re

from mmrl.rewards.mathparse.evaluate import exact, mp, numeric
from mmrl.rewards.mathparse.expr import free_symbols, parse_expression
from mmrl.rewards.mathparse.limits import ParseError, TooLarge

# Spellings the official pipeline meets after ``find_math_answer`` that mmrl's grammar writes
# differently: Python's power and percent, unicode operators, spacing commands.
_REWRITES = (
    ("**", "^"), ("\\%", "/100"), ("°", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("π", "\\pi "),
    ("√", "\\sqrt "), ("×", "*"), ("÷", "/"), ("\\,", ""), ("\\!", ""), ("\\ ", ""), ("\\left", ""),
    ("\\right", ""), ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"),
)
_ERRORS = (ParseError, TooLarge, ArithmeticError, ValueError, TypeError, KeyError, RecursionError)


def latex_value(latex: str) -> float | None:
    """The float value of a numeric LaTeX expression, or None when it is not a plain number."""
    if not isinstance(latex, str) or not latex.strip() or len(latex) > 200:
        return None
    text = latex.strip().strip("$")
    for old, new in _REWRITES:
        text = text.replace(old, new)
    if re.search(r"[,;=<>]", text):
        return None  # a tuple, a list or a relation is not one number
    try:
        node = parse_expression(text)
        if free_symbols(node):
            return None
        q = exact(node)
        if q is not None:
            return float(q)
        value = numeric(node, None)
        m = mp()
        if m.im(value) != 0 or not m.isfinite(value):
            return None
        return float(m.re(value))
    except _ERRORS:
        return None
