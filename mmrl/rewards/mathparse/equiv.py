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
from mmrl.rewards.mathparse.switches import renamings, renamed, written_as_relation, written_as_set
from mmrl.rewards.mathparse.values import (Interval, Matrix, Relation, Scalar, Seq, Text, Union_, Value, names_quantity,
                                           parse_answer)

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
        if va is None or vb is None:
            return False
        if not close_numeric(va, vb, tol):
            if _complex(va) or _complex(vb):
                continue  # outside the real domain the branches of roots differ: \sqrt[3]{x}^2 vs x^{2/3}
            return False
        conclusive += 1
    return conclusive >= _MIN_CONCLUSIVE


def _complex(v: Any) -> bool:
    return mp().im(v) != 0


def _proportional(a: Node, b: Node, tol: Tolerance, *, positive: bool = False) -> bool:
    """Whether ``a = c * b`` for a constant ``c != 0`` (two equations ``a = 0`` and ``b = 0``);
    with ``positive``, ``c > 0`` (two inequalities ``a < 0`` and ``b < 0``)."""
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
            if positive and not (mp().im(ratio) == 0 and ratio > 0):
                return False
        elif not close_numeric(va, ratio * vb, tol):
            return False
        conclusive += 1
    return conclusive >= _MIN_CONCLUSIVE


def percent_of_fraction(text: str) -> bool:
    """Whether a percentage is written with a fraction or a mixed number (``16\\frac{2}{3}\\%``)."""
    return "\\frac" in text or "/" in text


def _percent_variants(v: Scalar) -> tuple[Node, ...]:
    """A percentage also matches its number of percent ("50%" is 0.5 and 50, the usual answer to
    "what percent"); a percentage of a fraction is only its value ("16 2/3 %" is 1/6, not 50/3)."""
    if not v.percent:
        return (v.node,)
    over_100 = ("/", v.node, ("n", Fraction(100)))
    return (over_100,) if percent_of_fraction(v.text) else (v.node, over_100)


_DECIMAL_LITERAL = re.compile(r"[-+]?\d*\.(\d+)")


def rounds_to_reference(g: Scalar, p: Scalar) -> bool:
    """A reference written as a rounded decimal (``2.83``) accepts an exact irrational answer that
    rounds to it (``2\\sqrt{2}`` = 2.828...): the reference fixes the precision asked for."""
    m = _DECIMAL_LITERAL.fullmatch(g.text.strip())
    if m is None or g.percent or p.percent or is_approximate(p.text) or free_symbols(p.node):
        return False
    if exact(p.node) is not None:
        return False  # a rational answer is compared exactly or within the relative tolerance
    value = _evaluate(p.node, None)
    if value is None or mp().im(value) != 0:
        return False
    half_unit = Fraction(1, 2 * 10 ** len(m.group(1)))
    return abs(Fraction(str(mp().nstr(value, 25))) - Fraction(g.text.strip())) <= half_unit * (1 + Fraction(1, 10 ** 9))


def scalars_equal(g: Scalar, p: Scalar, tol: Tolerance) -> bool:
    if g.text == p.text:
        return True
    approximate = is_approximate(g.text) or is_approximate(p.text)
    if any(nodes_equal(a, b, tol, approximate=approximate)
           for a in _percent_variants(g) for b in _percent_variants(p)):
        return True
    return rounds_to_reference(g, p)


def _bare_symbol(v: Value) -> bool:
    return isinstance(v, Scalar) and v.node[0] == "s"


def _names_quantity(v: Value) -> bool:
    """Whether one side of ``LHS = value`` only names what is asked: ``x``, ``(p, q)``, ``f(x)``
    (read as a product of symbols), ``|AB|``: symbols without numbers."""
    if isinstance(v, Seq):
        return v.kind == "tuple" and bool(v.items) and all(_bare_symbol(i) for i in v.items)
    if not isinstance(v, Scalar):
        return False
    node = v.node
    if node[0] == "f" and node[1] == "abs":
        node = node[2]
    return names_quantity(node)


def _difference(r: Relation) -> Node | None:
    if isinstance(r.lhs, Scalar) and isinstance(r.rhs, Scalar):
        return ("+", (r.lhs.node, ("neg", r.rhs.node)))
    return None


def _solution_value(r: Relation) -> Value:
    """What ``x = 2`` (or ``2 = x``, or ``2 + 3 = 5``) says the answer is."""
    if _names_quantity(r.rhs) and not _names_quantity(r.lhs):
        return r.lhs
    return r.rhs


def _distinct(items: tuple, tol: Tolerance, order: str) -> tuple:
    out: list = []
    for it in items:
        if not any(equivalent(seen, it, tol, order) for seen in out):
            out.append(it)
    return tuple(out)


def _multiset_equal(gs: tuple, ps: tuple, tol: Tolerance, order: str = "auto") -> bool:
    """The same elements, each matched once; when the counts differ, an element written twice
    counts once (an unordered answer is a set: "(3,17),(3,17),(1,2)" lists the set of two)."""
    if len(gs) != len(ps):
        gs, ps = _distinct(gs, tol, order), _distinct(ps, tol, order)
        if len(gs) != len(ps):
            return False
    unused = list(ps)
    for g in gs:
        for i, p in enumerate(unused):
            if equivalent(g, p, tol, order):
                del unused[i]
                break
        else:
            return False
    return True


def _unwrap_solutions(items: tuple) -> tuple:
    return tuple(_solution_value(v) if isinstance(v, Relation) and v.op == "=" else v for v in items)


def _assignments(v: Seq) -> tuple[tuple[str, ...], list[dict]] | None:
    """``p=5, q=2; p=7, q=2``: values given to two or more named unknowns, one solution after the
    other (a name met again starts the next solution). The names in order of first appearance and
    each solution as a name -> value map; None when ``v`` is not such a list."""
    if v.kind != "list" or len(v.items) < 2:
        return None
    solutions: list[dict] = [{}]
    names: list[str] = []
    for item in v.items:
        if not (isinstance(item, Relation) and item.op == "=" and _bare_symbol(item.lhs)):
            return None
        name = item.lhs.node[1]
        if name in solutions[-1]:
            solutions.append({})
        solutions[-1][name] = item.rhs
        if name not in names:
            names.append(name)
    if len(names) < 2 or any(len(sol) != len(names) for sol in solutions):
        return None
    return tuple(names), solutions


def _solutions_of(v: Seq, names: tuple[str, ...]) -> Seq:
    """A list of assignments as the tuples of its solutions, in the order ``names`` gives
    (``p=5, q=2`` is ``(5, 2)``); any other list as it is."""
    found = _assignments(v)
    if found is None:
        return v
    tuples = [Seq("tuple", tuple(sol[n] for n in names), "()") for sol in found[1]]
    return tuples[0] if len(tuples) == 1 else Seq("list", tuple(tuples))


def _as_interval(v: Value) -> Interval | None:
    if isinstance(v, Interval):
        return v
    if isinstance(v, Seq) and v.kind == "tuple" and len(v.items) == 2 and all(isinstance(x, Scalar) for x in v.items):
        return Interval(v.items[0], v.items[1], v.brackets[0] == "(", v.brackets[1] == ")")
    return None


ORDERS = ("auto", "ordered", "unordered")


def equivalent(g: Value, p: Value, tol: Tolerance = Tolerance(), order: str = "auto") -> bool:
    """Whether the predicted value ``p`` is the reference value ``g``.

    ``order``: ``auto`` compares tuples in order and bare lists and sets without; ``ordered``
    compares lists in order too (the question asked for an order); ``unordered`` compares tuples
    without order too.
    """
    if isinstance(g, Text) or isinstance(p, Text):
        return isinstance(g, Text) and isinstance(p, Text) and g.text.lower() == p.text.lower()
    if isinstance(p, Relation) and not isinstance(g, Relation):
        return p.op == "=" and equivalent(g, _solution_value(p), tol, order)
    if isinstance(g, Relation) and not isinstance(p, Relation):
        # "y = 2x + 1" names its variable, so "2x + 1" answers it; "7 = 11a + c" is an equation
        # between two expressions, and neither side alone is that equation
        defines = _names_quantity(g.lhs) or _names_quantity(g.rhs)
        return g.op == "=" and defines and equivalent(_solution_value(g), p, tol, order)
    if isinstance(g, Relation):
        if g.op != p.op:
            return False
        if g.op == "=":
            if _bare_symbol(g.lhs) and _bare_symbol(p.lhs) and g.lhs == p.lhs:
                return equivalent(g.rhs, p.rhs, tol, order)
            dg, dp = _difference(g), _difference(p)
            return dg is not None and dp is not None and _proportional(dg, dp, tol)
        if equivalent(g.lhs, p.lhs, tol, order) and equivalent(g.rhs, p.rhs, tol, order):
            return True
        # "-x > -1" is "x < 1": the same inequality multiplied by a negative number
        dg, dp = _difference(g), _difference(p)
        return g.op in ("<", "<=") and dg is not None and dp is not None and _proportional(dg, dp, tol, positive=True)
    if isinstance(g, Scalar) and isinstance(p, Scalar):
        return scalars_equal(g, p, tol)
    # a one-element collection against its element: "{2}" or "x=2 ," against 2
    if isinstance(g, Seq) and len(g.items) == 1 and not isinstance(p, Seq):
        return equivalent(g.items[0], p, tol, order)
    if isinstance(p, Seq) and len(p.items) == 1 and not isinstance(g, Seq):
        return equivalent(g, p.items[0], tol, order)
    if isinstance(p, Seq) and p.kind == "list" and not isinstance(g, Seq) and len(p.items) <= 4 \
            and all(equivalent(p.items[0], q, tol, order) for q in p.items[1:]):
        return equivalent(g, p.items[0], tol, order)  # "1/2 or 0.5": two spellings of one value
    gi, pi = _as_interval(g), _as_interval(p)
    if gi is not None and pi is not None and (isinstance(g, Interval) or isinstance(p, Interval)):
        return (gi.lo_open == pi.lo_open and gi.hi_open == pi.hi_open
                and scalars_equal(gi.lo, pi.lo, tol) and scalars_equal(gi.hi, pi.hi, tol))
    if isinstance(g, Seq) and isinstance(p, Seq) and (_assignments(g) or _assignments(p)):
        gg, pg = _assignments(g), _assignments(p)
        names = gg[0] if gg else pg[0]
        if gg and pg and set(gg[0]) != set(pg[0]):
            return False
        return equivalent(_solutions_of(g, names), _solutions_of(p, names), tol, order)
    if isinstance(g, Seq) and isinstance(p, Seq):
        gs, ps = _unwrap_solutions(g.items), _unwrap_solutions(p.items)
        kinds = {g.kind, p.kind}
        if order == "unordered":
            return _multiset_equal(gs, ps, tol, order)
        if kinds == {"tuple", "set"}:
            return False  # an ordered tuple is not a set
        if g.kind == "tuple" and p.kind == "tuple" and len(gs) == 2 and g.brackets != p.brackets:
            return False  # [1, 2] and (1, 2) differ as intervals
        if "tuple" in kinds or (order == "ordered" and "set" not in kinds):
            return len(gs) == len(ps) and all(equivalent(a, b, tol, order) for a, b in zip(gs, ps))
        return _multiset_equal(gs, ps, tol, order)
    if isinstance(g, Union_) and isinstance(p, Union_):
        return _multiset_equal(g.items, p.items, tol, order)
    if isinstance(g, Matrix) and isinstance(p, Matrix):
        if len(g.rows) != len(p.rows) or any(len(a) != len(b) for a, b in zip(g.rows, p.rows)):
            return False
        return all(equivalent(a, b, tol, order) for ra, rb in zip(g.rows, p.rows) for a, b in zip(ra, rb))
    return False


@lru_cache(maxsize=8192)
def _normalized(text: str):
    return normalize(text) if len(text) <= 2000 else None


DECIMAL_COMMA_MODES = ("auto", "never", "always")
# "1.234,56": dot thousands and a decimal comma
_EUROPEAN = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+),(\d+)(?![\d.,])")
# one comma between digits, no space: "1,22", "0,111", "2,5" (not 1,000 / 12,345,678 / 1,000.99)
_ONE_COMMA = re.compile(r"(?<![\d.,])(\d+),(\d+)(?![\d.,])")
_APPROX = re.compile(r"\\approx(?![A-Za-z])|≈|\\simeq(?![A-Za-z])")


def decimal_comma_reading(text: str, mode: str = "auto") -> str:
    """The text with its decimal commas written as points, under the ``decimal_comma`` mode.

    ``auto``: a comma between digits is decimal unless it is followed by exactly three digits in
    a number whose integer part is not 0 (``1,000`` stays a thousand, ``1,5`` and ``0,111`` are
    decimals); ``1.234,56`` is dot-thousands with a decimal comma. ``always``: every lone comma
    between digits is decimal (``1,000`` is 1). ``never``: nothing changes.
    """
    if mode == "never" or "," not in text:
        return text
    text = _EUROPEAN.sub(lambda m: m.group(1).replace(".", "") + "." + m.group(2), text)

    def one(m: re.Match) -> str:
        whole, frac = m.group(1), m.group(2)
        before, after = m.string[:m.start()].rstrip()[-1:], m.string[m.end():].lstrip()[:1]
        if before and before in "([{" and after and after in ")]}":
            return m.group(0)  # "[0,1)" and "(1,5)" are pairs, not 0.1 and 1.5
        if mode == "auto" and len(frac) == 3 and not whole.startswith("0"):
            return m.group(0)
        return f"{whole}.{frac}"

    return _ONE_COMMA.sub(one, text)


_UNITS_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
               "ninety": 90}
_NUMBER_WORDS = re.compile(r"(?:(negative|minus)\s+)?([a-z]+(?:[- ][a-z]+){0,4})")


def number_from_words(text: str) -> str | None:
    """``"twelve"`` -> ``"12"``, ``"Twenty-four"`` -> ``"24"``, ``"negative three"`` -> ``"-3"``
    (English, below a million); None when the text is not a number in words."""
    m = _NUMBER_WORDS.fullmatch(text.strip().strip(".").lower())
    if m is None:
        return None
    total, current = 0, 0
    for word in re.split(r"[- ]+", m.group(2)):
        if word == "and":
            continue
        if word in _UNITS_WORDS:
            current += _UNITS_WORDS[word]
        elif word in _TENS_WORDS:
            current += _TENS_WORDS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        else:
            return None
    value = total + current
    return f"-{value}" if m.group(1) else str(value)


_NEGATION_WORDS = {"not", "neither", "nor", "non", "no", "never", "isn't", "n't"}
_JOINERS = {"or", "and", "nor", "ou", "et", "oder", "und"}
_YES_NO = {"yes", "no", "true", "false", "oui", "non", "si", "sí", "ja", "nein", "是", "否", "да", "нет"}


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text_key_words(text))


def text_key_words(text: str) -> str:
    s = re.sub(r"\\(?:text|mathrm|textbf|mathbf|textit)\s*\{([^{}]*)\}", r"\1", text)
    return s.replace("$", " ").lower()


def text_answer_matches(gold: str, pred: str) -> bool:
    """A text reference ("even", "No", "isosceles") stated by a short answer in words.

    The answer matches when its words are the reference's, or begin with them ("No, it is not
    possible", "isosceles triangle") or end with them ("The function is even") and the word before
    is not a negation ("neither even nor odd") and the next is not "or"/"and" ("even or odd").
    """
    gw, pw = _words(gold), _words(pred)
    if not gw or not pw or len(pw) > 40:
        return False
    n = len(gw)
    if pw == gw:
        return True
    if pw[:n] == gw and (len(pw) == n or pw[n] not in _JOINERS) and (gw[0] in _YES_NO or n < len(pw)):
        return not (len(pw) > n and gw[0] not in _YES_NO and pw[n] in _NEGATION_WORDS)
    if pw[-n:] == gw and len(pw) > n and pw[-n - 1] not in _NEGATION_WORDS | _JOINERS:
        return gw[0] not in _YES_NO
    return False


def _equal_once(gold: str, pred: str, tol: Tolerance, order: str) -> bool:
    if gold == pred:
        return True
    ng, np_ = _normalized(gold), _normalized(pred)
    if ng is None or np_ is None:
        return False  # over-long answers are only equal when identical
    if ng.text == np_.text and ng.percent == np_.percent:
        return True
    qg, qp = plain_number(ng.text), plain_number(np_.text)
    if qg is not None and qp is not None:
        gs = ((qg / 100,) if percent_of_fraction(ng.text) else (qg, qg / 100)) if ng.percent else (qg,)
        ps = ((qp / 100,) if percent_of_fraction(np_.text) else (qp, qp / 100)) if np_.percent else (qp,)
        if not (is_approximate(ng.text) or is_approximate(np_.text)):
            return any(a == b for a in gs for b in ps)
        return any(close_rational(a, b, tol) for a in gs for b in ps)
    vg, vp = parse_answer(gold), parse_answer(pred)
    if isinstance(vg, Text) or isinstance(vp, Text):
        return text_key(gold) == text_key(pred) or (isinstance(vg, Text) and text_answer_matches(gold, pred))
    return equivalent(vg, vp, tol, order)


def math_equal(gold: str, pred: str, tol: Tolerance = Tolerance(), *, order: str = "auto",
               decimal_comma: str = "auto", rename_variables: bool = False,
               relation_answers_set: bool = True) -> bool:
    """Whether the answer ``pred`` equals the reference ``gold``: the public entry point.

    Identical or identically-normalised strings and plain numbers are decided on the fast path
    (a few microseconds, no parsing); everything else is parsed into values and compared. An
    answer "EXACT \\approx DECIMAL" is right when either part is. Numbers in words ("twelve")
    are read as numbers. When the two differ as written, decimal commas are read as
    ``decimal_comma`` says (``auto``, ``never``, ``always``; see ``decimal_comma_reading``).
    ``order`` says whether lists must come in order (see ``equivalent``). ``rename_variables``
    also accepts the reference with its variables renamed; ``relation_answers_set=False`` refuses
    inequalities as the answer to a reference written as a set (``mathparse.switches``).
    """
    gold, pred = gold.strip(), pred.strip()
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if decimal_comma not in DECIMAL_COMMA_MODES:
        raise ValueError(f"decimal_comma must be one of {', '.join(DECIMAL_COMMA_MODES)}, got {decimal_comma!r}")
    if not relation_answers_set and written_as_set(parse_answer(gold)) and written_as_relation(parse_answer(pred)):
        return False
    if _math_equal(gold, pred, tol, order, decimal_comma):
        return True
    if rename_variables:
        vg, vp = parse_answer(gold), parse_answer(pred)
        if not isinstance(vg, Text) and not isinstance(vp, Text):
            return any(equivalent(vg, renamed(vp, mapping), tol, order) for mapping in renamings(vg, vp))
    return False


def _math_equal(gold: str, pred: str, tol: Tolerance, order: str, decimal_comma: str) -> bool:
    preds = [pred]
    if len(pred) <= 2000 and _APPROX.search(pred):
        preds = [p.strip() for p in _APPROX.split(pred) if p.strip()][:3]
    golds = [gold]
    for text in (gold,):
        words = number_from_words(text) if len(text) < 80 and text[:1].isalpha() else None
        if words is not None:
            golds.append(words)
    for p in list(preds):
        words = number_from_words(p) if len(p) < 80 and p[:1].isalpha() else None
        if words is not None:
            preds.append(words)
    for g in golds:
        for p in preds:
            if _equal_once(g, p, tol, order):
                return True
            if decimal_comma != "never" and ("," in g or "," in p):
                g2, p2 = decimal_comma_reading(g, decimal_comma), decimal_comma_reading(p, decimal_comma)
                if (g2, p2) != (g, p) and _equal_once(g2, p2, tol, order):
                    return True
    return False
