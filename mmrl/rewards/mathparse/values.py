"""Answers as structured values: scalars, relations, intervals, tuples, sets, lists, matrices.

``parse_answer`` decides what an answer *is* before its parts are parsed as expressions:
``\\begin{pmatrix}…\\end{pmatrix}`` is a matrix, ``\\{1,2\\}`` a set, ``[1, 3)`` an interval,
``(1, 2)`` a tuple (or an open interval, decided when compared), ``x = 2`` a relation,
``1 < x \\le 3`` an interval, ``2, 3`` or ``x=2 or x=3`` an unordered list, ``1 \\pm \\sqrt{2}`` the
list of both values, ``A \\cup B`` a union. Anything the parser refuses becomes ``Text``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

from mmrl.rewards.mathparse.evaluate import exact
from mmrl.rewards.mathparse.expr import Node, parse_expression
from mmrl.rewards.mathparse.limits import MAX_ANSWER_CHARS, MAX_ITEMS, ParseError
from mmrl.rewards.mathparse.normalize import normalize


@dataclass(frozen=True)
class Scalar:
    node: Node
    text: str
    percent: bool = False


@dataclass(frozen=True)
class Relation:
    op: str  # "=", "<", "<=", "!=" (">" and ">=" are stored with their sides swapped)
    lhs: "Value"
    rhs: "Value"


@dataclass(frozen=True)
class Interval:
    lo: Scalar
    hi: Scalar
    lo_open: bool
    hi_open: bool
    # written as inequalities ("-2 \\le x \\le 7") rather than as a set ("[-2, 7]"): the same set
    as_relation: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Seq:
    kind: str  # "tuple" (ordered), "list" (unordered, bare commas), "set"
    items: tuple
    brackets: str = ""


@dataclass(frozen=True)
class Union_:
    items: tuple


@dataclass(frozen=True)
class Matrix:
    rows: tuple


@dataclass(frozen=True)
class Text:
    text: str


Value = Union[Scalar, Relation, Interval, Seq, Union_, Matrix, Text]

_OPEN, _CLOSE = "([{", ")]}"
_RELATION = re.compile(r"\\(?:leq?|geq?|neq?|lt|gt|leqslant|geqslant)(?![A-Za-z])|<=|>=|!=|=|<|>")
_REL_NAMES = {"\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "\\ge": ">=", "\\geq": ">=", "\\geqslant": ">=",
              "\\ne": "!=", "\\neq": "!=", "\\lt": "<", "\\gt": ">"}
_MATRIX = re.compile(r"\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}", re.S)
_MATRIX_ENV = re.compile(r"\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*?)\\end\{\1\}", re.S)
_MATRIX_OPS = {"+": "+", "-": "-", "": "*", "\\cdot": "*", "\\times": "*"}
MAX_MATRIX_TERMS = 4
_WORD_SEPARATORS = re.compile(r"\s+(?:and|or)\s+|(?<=[)\]])\s*(?:and|or)\s*(?=[(\[])")
_EMPTY_SETS = {"\\emptyset", "\\varnothing", "\\{\\}", "\\{ \\}", "{}"}


def _depths(s: str) -> list[int]:
    """Bracket depth before each character (all bracket kinds count alike)."""
    out, d = [], 0
    for c in s:
        out.append(d)
        if c in _OPEN:
            d += 1
        elif c in _CLOSE:
            d -= 1
    return out


def split_top(s: str, pattern: re.Pattern) -> tuple[list[str], list[str]]:
    """Split at matches of ``pattern`` that are outside every bracket; returns (parts, separators)."""
    depths = None
    parts, seps, last = [], [], 0
    for m in pattern.finditer(s):
        if depths is None:
            depths = _depths(s)
        if depths[m.start()] != 0:
            continue
        parts.append(s[last:m.start()])
        seps.append(m.group())
        last = m.end()
    parts.append(s[last:])
    return parts, seps


_COMMA = re.compile(r"[,;]")
_CUP = re.compile(r"\\cup(?![A-Za-z])|(?<=[)\]])\s*U\s*(?=[(\[])")


def _encloses(s: str) -> bool:
    """Whether the first character's bracket is closed by the last character."""
    d = 0
    for i, c in enumerate(s):
        if c in _OPEN:
            d += 1
        elif c in _CLOSE:
            d -= 1
            if d == 0:
                return i == len(s) - 1
    return False


def _is_infinite(v: Scalar) -> bool:
    node = v.node[1] if v.node[0] == "neg" else v.node
    return node == ("c", "inf")


def _relation(parts: list[str], seps: list[str], depth: int) -> Value:
    ops = [_REL_NAMES.get(s, s) for s in seps]
    values = [_parse(p, False, depth + 1) for p in parts]
    if all(op == "=" for op in ops):
        return Relation("=", values[0], values[-1])
    if len(ops) == 1:
        op = ops[0]
        if op in (">", ">="):
            return Relation(op.replace(">", "<"), values[1], values[0])
        return Relation(op, values[0], values[1])
    if len(ops) == 2 and all(isinstance(v, Scalar) for v in values):
        lo, middle, hi = values
        if all(op in ("<", "<=") for op in ops):
            return _chain_set(lo, middle, hi, ops[0] == "<", ops[1] == "<")
        if all(op in (">", ">=") for op in ops):
            return _chain_set(hi, middle, lo, ops[1] == ">", ops[0] == ">")
    raise ParseError("unsupported chain of relations")


def names_quantity(node: Node) -> bool:
    """Whether an expression only names a quantity: ``x``, or ``f(x)`` and ``AB`` (read as
    products of symbols), symbols without numbers."""
    if node[0] == "s":
        return True
    return node[0] == "*" and len(node[1]) <= 3 and all(part[0] == "s" for part in node[1])


def _negated(v: Scalar) -> Scalar:
    return Scalar(("neg", v.node), f"-({v.text})")


def _chain_set(lo: Scalar, middle: Scalar, hi: Scalar, lo_open: bool, hi_open: bool) -> Value:
    """The set a chain ``lo < middle < hi`` describes: an interval of a variable ``x``, or for
    ``|x|`` the interval's two mirror images (``1 \\le |z| \\le 2`` is ``[-2, -1] \\cup [1, 2]``).
    Another middle (``1 < 2x < 3``) is not a set of the bounds alone, so it is refused."""
    node = middle.node
    if names_quantity(node):
        return Interval(lo, hi, lo_open, hi_open, as_relation=True)
    if not (node[0] == "f" and node[1] == "abs" and names_quantity(node[2])):
        raise ParseError("a chain of inequalities bounds a variable or its absolute value")
    low = exact(lo.node)
    if low is None:
        raise ParseError("the lower bound of |x| must be a number")
    if low < 0 or (low == 0 and not lo_open):
        return Interval(_negated(hi), hi, hi_open, hi_open, as_relation=True)  # |x| <= hi
    return Union_((Interval(_negated(hi), _negated(lo), hi_open, lo_open, as_relation=True),
                   Interval(lo, hi, lo_open, hi_open, as_relation=True)))


# what ends a value before the same name is assigned again: "W(x)=1orW(x)=-1", "x = 1; x = 2"
_JOINER_END = re.compile(r"(?:,|;|or|and|\\text\s{0,4}\{\s{0,4}(?:or|and)\s{0,4}\})\s{0,8}$")


def _repeated_assignments(parts: list[str], seps: list[str]) -> list[str] | None:
    """The values of one name assigned several times, ``L = a or L = b`` with the joiner glued or
    not (``W(x)=1orW(x)=-1``): the list of them; None for any other chain of relations."""
    name = parts[0].strip()
    if len(parts) < 3 or any(sep != "=" for sep in seps) or not re.fullmatch(r"[A-Za-z][A-Za-z_(){}|\\ ]{0,20}", name):
        return None
    values = []
    for mid in parts[1:-1]:
        mid = mid.rstrip()
        if not mid.endswith(name):
            return None
        rest = mid[:len(mid) - len(name)]
        joiner = _JOINER_END.search(rest)
        value = rest[:joiner.start()].strip() if joiner else ""
        if not value:
            return None
        values.append(value)
    return values + [parts[-1].strip()]


def _items(inner: str, depth: int) -> tuple:
    parts, _ = split_top(inner, _COMMA)
    if len(parts) > MAX_ITEMS:
        raise ParseError("too many items")
    return tuple(_parse(p, False, depth + 1) for p in parts if p.strip())


def _matrix_arithmetic(s: str, depth: int) -> Matrix | None:
    """``A + B``, ``A - B`` or ``A B`` of matrices written out: the resulting matrix (as ``2 + 3``
    is 5), entry by entry as expressions; None when ``s`` is not such an expression."""
    envs = list(_MATRIX_ENV.finditer(s))
    if not 2 <= len(envs) <= MAX_MATRIX_TERMS or s[:envs[0].start()].strip() or s[envs[-1].end():].strip():
        return None
    ops = [_MATRIX_OPS.get(s[a.end():b.start()].strip()) for a, b in zip(envs, envs[1:])]
    if None in ops or len({op == "*" for op in ops}) != 1:
        return None
    mats = [_parse(m.group(0), False, depth + 1) for m in envs]
    if not all(isinstance(m, Matrix) and all(isinstance(x, Scalar) for r in m.rows for x in r) for m in mats):
        return None
    rows = [list(r) for r in mats[0].rows]
    for op, m in zip(ops, mats[1:]):
        if op == "*":
            if any(len(r) != len(m.rows) for r in rows):
                return None
            cols = len(m.rows[0])
            rows = [[_scalar("+", [("*", (r[k].node, m.rows[k][j].node)) for k in range(len(r))],
                             " + ".join(f"({r[k].text})({m.rows[k][j].text})" for k in range(len(r))))
                     for j in range(cols)] for r in rows]
        else:
            if len(rows) != len(m.rows) or any(len(a) != len(b) for a, b in zip(rows, m.rows)):
                return None
            rows = [[_scalar("+", [a.node, b.node if op == "+" else ("neg", b.node)], f"({a.text}) {op} ({b.text})")
                     for a, b in zip(ra, rb)] for ra, rb in zip(rows, m.rows)]
    return Matrix(tuple(tuple(r) for r in rows))


def _scalar(op: str, parts: list, text: str) -> Scalar:
    return Scalar(parts[0] if len(parts) == 1 else (op, tuple(parts)), text)


def _parse(s: str, percent: bool, depth: int) -> Value:
    if depth > 4:
        raise ParseError("answer structure nested too deeply")
    s = s.strip()
    if not s:
        raise ParseError("empty item")
    if s.count("\\begin{") >= 2:
        combined = _matrix_arithmetic(s, depth)
        if combined is not None:
            return combined
    m = _MATRIX.fullmatch(s)
    if m is None and s[:1] in "([" and s[-1:] in ")]" and _encloses(s):
        m = _MATRIX.fullmatch(s[1:-1].strip())  # "\left[\begin{array}…\end{array}\right]"
    if m:
        rows = [r for r in m.group(2).split("\\\\") if r.strip()]
        if not rows or len(rows) > MAX_ITEMS:
            raise ParseError("bad matrix")
        return Matrix(tuple(tuple(_parse(c, False, depth + 1) for c in r.split("&")) for r in rows))
    if s in _EMPTY_SETS:
        return Seq("set", ())
    if s.count("\\pm") == 1 or s.count("\\mp") == 1:
        sign = "\\pm" if "\\pm" in s else "\\mp"
        return Seq("list", (_parse(s.replace(sign, "+"), percent, depth + 1),
                            _parse(s.replace(sign, "-"), percent, depth + 1)))
    listed = _WORD_SEPARATORS.sub(",", s)
    parts, _ = split_top(listed, _COMMA)
    if len(parts) > 1:
        return Seq("list", _items(listed, depth))
    parts, _ = split_top(s, _CUP)
    if len(parts) > 1:
        return Union_(tuple(_parse(p, False, depth + 1) for p in parts))
    parts, seps = split_top(s, _RELATION)
    if seps:
        repeated = _repeated_assignments(parts, seps)
        if repeated is not None:
            return _parse(", ".join(f"{parts[0].strip()} = {v}" for v in repeated), percent, depth + 1)
        return _relation(parts, seps, depth)
    if s.startswith("\\{") and s.endswith("\\}") and _encloses(s[1:]):
        return Seq("set", _items(s[2:-2], depth))
    if s[0] == "{" and s[-1] == "}" and _encloses(s) and split_top(s[1:-1], _COMMA)[1]:
        return Seq("list", _items(s[1:-1], depth))  # "{2, 3, 5}": LaTeX grouping braces, shown as "2, 3, 5"
    if s[0] in "([" and s[-1] in ")]" and _encloses(s):
        items = _items(s[1:-1], depth)
        if len(items) >= 2:
            brackets = s[0] + s[-1]
            if len(items) == 2 and all(isinstance(v, Scalar) for v in items) and (
                brackets in ("[)", "(]") or _is_infinite(items[0]) or _is_infinite(items[1])
            ):
                return Interval(items[0], items[1], s[0] == "(", s[-1] == ")")
            return Seq("tuple", items, brackets)
    return Scalar(parse_expression(s), s, percent)


@lru_cache(maxsize=8192)
def parse_answer(text: str) -> Value:
    """The structured value of an answer; ``Text`` when it is too long or not mathematics."""
    if len(text) > MAX_ANSWER_CHARS:
        return Text(text)
    norm = normalize(text)
    if not norm.text:
        return Text("")
    try:
        return _parse(norm.text, norm.percent, 0)
    except (ParseError, RecursionError, ValueError, ZeroDivisionError):
        return Text(norm.text)
