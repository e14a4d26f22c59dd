"""Deciding whether two answers are the same mathematical object.

Expressions are compared exactly when both are rational (with the relative tolerance only when
one of them is written as a decimal approximation), numerically (30 digits, relative
tolerance) when both are constants, and otherwise by probabilistic identity testing: both are
evaluated at the same fixed, generic points for their symbols, and must agree at every point
where they are defined (``2x+1`` = ``1+2x``, ``\\frac{x^2-1}{x-1}`` = ``x+1``,
``\\sin^2 x + \\cos^2 x`` = ``1``). Points include negative values, so ``\\sqrt{x^2}`` is not ``x``.
The points are fixed, so a verdict is reproducible. Structures are compared part by part: sets
and bare lists without order, tuples and intervals with it, ``x = 2`` against ``2`` by its
value, two equations by whether one is a non-zero multiple of the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from mmrl.rewards.mathparse.evaluate import exact, mp, numeric
from mmrl.rewards.mathparse.expr import Node, free_symbols
from mmrl.rewards.mathparse.limits import TooLarge
from mmrl.rewards.mathparse.normalize import normalize, plain_number, text_key
from mmrl.rewards.mathparse.values import Interval, Matrix, Relation, Scalar, Seq, Text, Union_, Value, parse_answer

# Generic values for symbols: irrational-looking, of both signs, away from 0 and +-1.
_POINTS = (0.5772156649, -1.3247179572, 2.2360679775, -0.3183098862, 1.6180339887, -2.7182818284,
           0.8414709848, -0.6931471806)
_N_POINTS = 6
_MIN_CONCLUSIVE = 3
_NUMERIC_NOISE = 1e-20  # evaluation noise at 30 digits; exact comparisons use no such floor
_EVAL_ERRORS = (ArithmeticError, ValueError, TypeError, KeyError, TooLarge)


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerance for numbers (GLM: 1e-6 math, 1e-5 physics, 2.5e-2 charts), and an
    absolute one (0 by default: 1e-19 and 2e-19 are different answers)."""

    rel: float = 1e-6
    abs: float = 0.0

    @property
    def rel_q(self) -> Fraction:
        return Fraction(str(self.rel))

    @property
    def abs_q(self) -> Fraction:
        return Fraction(str(self.abs))


def close_rational(a: Fraction, b: Fraction, tol: Tolerance) -> bool:
    if a == b:
        return True
    diff = abs(a - b)
    return diff <= tol.abs_q or diff <= tol.rel_q * max(abs(a), abs(b))


def close_numeric(a: Any, b: Any, tol: Tolerance, noise: float = _NUMERIC_NOISE) -> bool:
    m = mp()
    if m.isnan(a) or m.isnan(b):
        return False
    if m.isinf(a) or m.isinf(b):
        return a == b
    diff = abs(a - b)
    return diff <= max(tol.abs, noise) or diff <= tol.rel * max(abs(a), abs(b))


def _env(symbols: list[str], k: int) -> dict[str, Any]:
    m = mp()
    return {name: m.mpf(_POINTS[(k + 3 * j) % len(_POINTS)]) + m.mpf(j) / 7 for j, name in enumerate(symbols)}


def _evaluate(node: Node, env: dict[str, Any] | None) -> Any:
    try:
        return numeric(node, env)
    except _EVAL_ERRORS:
        return None


def is_approximate(text: str) -> bool:
    """Whether an answer is written as an approximation: a decimal point or an e-exponent.

    Tolerance is for approximations: ``0.333`` may stand for ``1/3``, but two exact answers
    (``9511891`` and ``9511900``, ``\\frac{1}{3}`` and ``\\frac{2}{6}``) are equal only when equal.
    """
    return _APPROXIMATE.search(text) is not None


_APPROXIMATE = re.compile(r"\d\.\d|\.\d|\d\.(?!\d)|\d[eE][-+]?\d")


def nodes_equal(a: Node, b: Node, tol: Tolerance, *, approximate: bool = True) -> bool:
    """Whether two expression ASTs denote the same value (or the same function of their symbols).

    With ``approximate`` false, two rational values must be exactly equal (no tolerance).
    """
    if a == b:
        return True
    ea, eb = exact(a), exact(b)
    if ea is not None and eb is not None:
        return close_rational(ea, eb, tol) if approximate else ea == eb
    symbols = sorted(free_symbols(a) | free_symbols(b))
    if not symbols:
        va, vb = _evaluate(a, None), _evaluate(b, None)
        return va is not None and vb is not None and close_numeric(va, vb, tol)
    conclusive = 0
    for k in range(_N_POINTS):
        env = _env(symbols, k)
        va, vb = _evaluate(a, env), _evaluate(b, env)
        if va is None and vb is None:
            continue
        if va is None or vb is None or not close_numeric(va, vb, tol):
            return False
        conclusive += 1
    return conclusive >= _MIN_CONCLUSIVE


def _proportional(a: Node, b: Node, tol: Tolerance) -> bool:
    """Whether ``a = c * b`` for a constant ``c != 0`` (two equations ``a = 0`` and ``b = 0``)."""
    symbols = sorted(free_symbols(a) | free_symbols(b))
    ratio, conclusive = None, 0
    for k in range(_N_POINTS):
        env = _env(symbols, k)
        va, vb = _evaluate(a, env), _evaluate(b, env)
        if va is None or vb is None:
            if (va is None) != (vb is None):
                return False
            continue
        small_a, small_b = abs(va) <= _NUMERIC_NOISE, abs(vb) <= _NUMERIC_NOISE
        if small_a or small_b:
            if small_a != small_b:
                return False
            conclusive += 1
            continue
        if ratio is None:
            ratio = va / vb
        elif not close_numeric(va, ratio * vb, tol):
            return False
        conclusive += 1
    return conclusive >= _MIN_CONCLUSIVE


def _percent_variants(v: Scalar) -> tuple[Node, ...]:
    """A percentage also matches its fraction: "50%" is 50 and 0.5."""
    return (v.node, ("/", v.node, ("n", Fraction(100)))) if v.percent else (v.node,)


def scalars_equal(g: Scalar, p: Scalar, tol: Tolerance) -> bool:
    if g.text == p.text:
        return True
    approximate = is_approximate(g.text) or is_approximate(p.text)
    return any(nodes_equal(a, b, tol, approximate=approximate)
               for a in _percent_variants(g) for b in _percent_variants(p))


def _bare_symbol(v: Value) -> bool:
    return isinstance(v, Scalar) and v.node[0] == "s"


def _difference(r: Relation) -> Node | None:
    if isinstance(r.lhs, Scalar) and isinstance(r.rhs, Scalar):
        return ("+", (r.lhs.node, ("neg", r.rhs.node)))
    return None


def _solution_value(r: Relation) -> Value:
    """What ``x = 2`` (or ``2 = x``, or ``2 + 3 = 5``) says the answer is."""
    if _bare_symbol(r.rhs) and not _bare_symbol(r.lhs):
        return r.lhs
    return r.rhs


def _multiset_equal(gs: tuple, ps: tuple, tol: Tolerance) -> bool:
    if len(gs) != len(ps):
        return False
    unused = list(ps)
    for g in gs:
        for i, p in enumerate(unused):
            if equivalent(g, p, tol):
                del unused[i]
                break
        else:
            return False
    return True


def _unwrap_solutions(items: tuple) -> tuple:
    return tuple(_solution_value(v) if isinstance(v, Relation) and v.op == "=" else v for v in items)


def _as_interval(v: Value) -> Interval | None:
    if isinstance(v, Interval):
        return v
    if isinstance(v, Seq) and v.kind == "tuple" and len(v.items) == 2 and all(isinstance(x, Scalar) for x in v.items):
        return Interval(v.items[0], v.items[1], v.brackets[0] == "(", v.brackets[1] == ")")
    return None


def equivalent(g: Value, p: Value, tol: Tolerance = Tolerance()) -> bool:
    """Whether the predicted value ``p`` is the reference value ``g``."""
    if isinstance(g, Text) or isinstance(p, Text):
        return isinstance(g, Text) and isinstance(p, Text) and g.text.lower() == p.text.lower()
    if isinstance(p, Relation) and not isinstance(g, Relation):
        return p.op == "=" and equivalent(g, _solution_value(p), tol)
    if isinstance(g, Relation) and not isinstance(p, Relation):
        return g.op == "=" and equivalent(_solution_value(g), p, tol)
    if isinstance(g, Relation):
        if g.op != p.op:
            return False
        if g.op == "=":
            if _bare_symbol(g.lhs) and _bare_symbol(p.lhs) and g.lhs == p.lhs:
                return equivalent(g.rhs, p.rhs, tol)
            dg, dp = _difference(g), _difference(p)
            return dg is not None and dp is not None and _proportional(dg, dp, tol)
        return equivalent(g.lhs, p.lhs, tol) and equivalent(g.rhs, p.rhs, tol)
    if isinstance(g, Scalar) and isinstance(p, Scalar):
        return scalars_equal(g, p, tol)
    # a one-element collection against its element: "{2}" or "x=2 ," against 2
    if isinstance(g, Seq) and len(g.items) == 1 and not isinstance(p, Seq):
        return equivalent(g.items[0], p, tol)
    if isinstance(p, Seq) and len(p.items) == 1 and not isinstance(g, Seq):
        return equivalent(g, p.items[0], tol)
    gi, pi = _as_interval(g), _as_interval(p)
    if gi is not None and pi is not None and (isinstance(g, Interval) or isinstance(p, Interval)):
        return (gi.lo_open == pi.lo_open and gi.hi_open == pi.hi_open
                and scalars_equal(gi.lo, pi.lo, tol) and scalars_equal(gi.hi, pi.hi, tol))
    if isinstance(g, Seq) and isinstance(p, Seq):
        gs, ps = _unwrap_solutions(g.items), _unwrap_solutions(p.items)
        if g.kind == "tuple" and p.kind == "tuple":
            if len(gs) == 2 and g.brackets != p.brackets:
                return False  # [1, 2] and (1, 2) differ as intervals
            return len(gs) == len(ps) and all(equivalent(a, b, tol) for a, b in zip(gs, ps))
        return _multiset_equal(gs, ps, tol)
    if isinstance(g, Union_) and isinstance(p, Union_):
        return _multiset_equal(g.items, p.items, tol)
    if isinstance(g, Matrix) and isinstance(p, Matrix):
        if len(g.rows) != len(p.rows) or any(len(a) != len(b) for a, b in zip(g.rows, p.rows)):
            return False
        return all(equivalent(a, b, tol) for ra, rb in zip(g.rows, p.rows) for a, b in zip(ra, rb))
    return False


@lru_cache(maxsize=8192)
def _normalized(text: str):
    return normalize(text) if len(text) <= 2000 else None


def math_equal(gold: str, pred: str, tol: Tolerance = Tolerance()) -> bool:
    """Whether the answer ``pred`` equals the reference ``gold``: the public entry point.

    Identical or identically-normalised strings and plain numbers are decided on the fast path
    (a few microseconds, no parsing); everything else is parsed into values and compared.
    """
    gold, pred = gold.strip(), pred.strip()
    if gold == pred:
        return True
    ng, np_ = _normalized(gold), _normalized(pred)
    if ng is None or np_ is None:
        return False  # over-long answers are only equal when identical
    if ng.text == np_.text:
        return True
    qg, qp = plain_number(ng.text), plain_number(np_.text)
    if qg is not None and qp is not None:
        gs = (qg, qg / 100) if ng.percent else (qg,)
        ps = (qp, qp / 100) if np_.percent else (qp,)
        if not (is_approximate(ng.text) or is_approximate(np_.text)):
            return any(a == b for a in gs for b in ps)
        return any(close_rational(a, b, tol) for a in gs for b in ps)
    vg, vp = parse_answer(gold), parse_answer(pred)
    if isinstance(vg, Text) or isinstance(vp, Text):
        return text_key(gold) == text_key(pred)
    return equivalent(vg, vp, tol)
