"""Evaluating expression ASTs: exactly over the rationals, or numerically with mpmath.

``exact`` answers the common case (numbers, fractions, integer powers) with Python's Fraction,
no floating point and no library at all. ``numeric`` evaluates anything else (roots, pi,
trigonometry, symbols bound to sample points) at 30 significant digits with mpmath, which also
represents huge magnitudes without overflow. Both refuse work beyond ``limits`` (``TooLarge``)
instead of computing ``10^{10^{10}}`` digit by digit; recursion depth is bounded by the parser.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from mmrl.rewards.mathparse.expr import Node
from mmrl.rewards.mathparse.limits import (
    MAX_EXACT_BITS,
    MAX_EXACT_FACTORIAL,
    MAX_MAGNITUDE_BITS,
    MAX_NUMERIC_FACTORIAL,
    TooLarge,
)

_mp: Any = None


def mp() -> Any:
    """mpmath, imported on first numeric use (the fast path never needs it)."""
    global _mp
    if _mp is None:
        import mpmath

        mpmath.mp.dps = 30
        _mp = mpmath
    return _mp


def _bits(q: Fraction) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length())


def _exact_pow(base: Fraction, exp: Fraction) -> Fraction | None:
    if exp.denominator != 1:
        if base < 0 or exp.denominator > 16:
            return None
        root = _exact_root(base, exp.denominator)
        if root is None:
            return None
        return _exact_pow(root, Fraction(exp.numerator))
    e = exp.numerator
    if base == 0:
        return None if e < 0 else (Fraction(1) if e == 0 else Fraction(0))
    if abs(base) == 1:
        return base ** e
    if abs(e) * _bits(base) > MAX_EXACT_BITS:
        return None
    return base ** e


def _exact_root(q: Fraction, n: int) -> Fraction | None:
    """The n-th root of a non-negative rational when it is rational, else None."""
    if q < 0 or _bits(q) > 4096:
        return None
    num, den = _int_root(q.numerator, n), _int_root(q.denominator, n)
    if num is None or den is None:
        return None
    return Fraction(num, den)


def _int_root(k: int, n: int) -> int | None:
    r = round(k ** (1.0 / n)) if k < 1 << 1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** n == k:
            return c
    return None


def exact(node: Node) -> Fraction | None:
    """The exact rational value of an AST, or None when it is not (or not cheaply) rational."""
    kind = node[0]
    if kind == "n":
        return node[1]
    if kind == "neg":
        v = exact(node[1])
        return None if v is None else -v
    if kind == "+":
        total = Fraction(0)
        for t in node[1]:
            v = exact(t)
            if v is None:
                return None
            total += v
        return total
    if kind == "*":
        prod = Fraction(1)
        for t in node[1]:
            v = exact(t)
            if v is None:
                return None
            prod *= v
            if _bits(prod) > MAX_EXACT_BITS:
                return None
        return prod
    if kind == "/":
        a, b = exact(node[1]), exact(node[2])
        if a is None or b is None or b == 0:
            return None
        return a / b
    if kind == "^":
        a, b = exact(node[1]), exact(node[2])
        if a is None or b is None:
            return None
        return _exact_pow(a, b)
    if kind == "f":
        name = node[1]
        v = exact(node[2])
        if v is None:
            return None
        if name == "sqrt":
            return _exact_root(v, 2)
        if name == "abs":
            return abs(v)
        if name == "fact":
            if v.denominator == 1 and 0 <= v <= MAX_EXACT_FACTORIAL:
                return Fraction(math.factorial(int(v)))
            return None
        if name == "floor":
            return Fraction(math.floor(v))
        if name == "ceil":
            return Fraction(math.ceil(v))
        return None
    if kind == "root":
        n, v = exact(node[1]), exact(node[2])
        if n is None or v is None or n.denominator != 1 or not 1 <= n <= 16:
            return None
        return _exact_root(v, int(n))
    if kind == "binom":
        n, k = exact(node[1]), exact(node[2])
        if n is None or k is None or n.denominator != 1 or k.denominator != 1:
            return None
        if not 0 <= k <= n <= MAX_EXACT_FACTORIAL:
            return Fraction(0) if (0 <= n <= MAX_EXACT_FACTORIAL and (k < 0 or k > n)) else None
        return Fraction(math.comb(int(n), int(k)))
    return None


def _check(value: Any) -> Any:
    """Refuse intermediate values whose magnitude is beyond the bounds."""
    m = mp()
    if value and m.isfinite(value) and abs(m.mag(value)) > MAX_MAGNITUDE_BITS:
        raise TooLarge("value out of range")
    return value


def _pow(a: Any, b: Any) -> Any:
    m = mp()
    if a == 0 or a == 1:
        return m.mpf(1) if (a == 1 or b == 0) else (m.mpf(0) if m.re(b) > 0 else m.inf)
    if not m.isfinite(b):
        raise TooLarge("infinite exponent")
    log2a = abs(m.log(abs(a), 2))
    if abs(b) * max(log2a, 1) > MAX_MAGNITUDE_BITS:
        raise TooLarge("power out of range")
    return m.power(a, b)


def _fact(v: Any) -> Any:
    m = mp()
    if m.im(v) != 0 or m.re(v) > MAX_NUMERIC_FACTORIAL:
        raise TooLarge("factorial out of range")
    return m.factorial(m.re(v))


_FUNCS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "asin": "asin", "acos": "acos", "atan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "ln": "ln", "sqrt": "sqrt", "floor": "floor", "ceil": "ceil",
}


def numeric(node: Node, env: Mapping[str, Any] | None = None) -> Any:
    """Evaluate an AST with mpmath; symbols take their values from ``env``.

    Raises ``TooLarge`` beyond the magnitude bounds, ``ZeroDivisionError``/``ValueError`` on a
    point outside the domain, and ``KeyError`` for a symbol ``env`` does not bind.
    """
    m = mp()
    kind = node[0]
    if kind == "n":
        q = node[1]
        return m.mpf(q.numerator) / q.denominator
    if kind == "s":
        if env is None:
            raise KeyError(node[1])
        return env[node[1]]
    if kind == "c":
        return {"pi": m.pi, "e": m.e, "inf": m.inf}[node[1]] * 1
    if kind == "neg":
        return -numeric(node[1], env)
    if kind == "+":
        total = m.mpf(0)
        for t in node[1]:
            total = _check(total + numeric(t, env))
        return total
    if kind == "*":
        prod = m.mpf(1)
        for t in node[1]:
            prod = _check(prod * numeric(t, env))
        return prod
    if kind == "/":
        a, b = numeric(node[1], env), numeric(node[2], env)
        if b == 0:
            raise ZeroDivisionError("division by zero")
        return _check(a / b)
    if kind == "^":
        return _check(_pow(numeric(node[1], env), numeric(node[2], env)))
    if kind == "f":
        name, v = node[1], numeric(node[2], env)
        if name == "fact":
            return _check(_fact(v))
        if name == "abs":
            return abs(v)
        if name == "exp":
            if m.re(v) > MAX_MAGNITUDE_BITS:
                raise TooLarge("exp out of range")
            return m.exp(v)
        return _check(getattr(m, _FUNCS[name])(v))
    if kind == "root":
        n, v = numeric(node[1], env), numeric(node[2], env)
        if n == 0:
            raise ZeroDivisionError("zeroth root")
        if m.im(v) == 0 and m.re(v) < 0 and m.im(n) == 0 and int(n) == n and int(n) % 2 == 1:
            return -m.root(-v, int(n))  # real odd root of a negative number
        return _check(_pow(v, 1 / n))
    if kind == "log":
        v = numeric(node[2], env)
        if v == 0:
            raise ValueError("log of zero")
        if node[1] is None:
            return m.ln(v)  # \log without a base is the natural log, as sympy reads it
        base = numeric(node[1], env)
        if base == 1 or base == 0:
            raise ValueError("bad log base")
        return m.ln(v) / m.ln(base)
    if kind == "binom":
        n, k = numeric(node[1], env), numeric(node[2], env)
        if abs(n) > MAX_NUMERIC_FACTORIAL:
            raise TooLarge("binomial out of range")
        return m.binomial(n, k)
    raise ValueError(f"cannot evaluate {kind!r}")
