"""The numeric value of a short LaTeX answer (``\\frac{3}{4}``, ``2\\sqrt{3}``, ``\\pi/2``, ``1.5``).

MathVision's official ``is_equal`` compares ``round(eval(str(latex2sympy(x))), 2)`` of both sides
(evaluated with ``from math import *``), so only answers with a plain numeric value can match
this way. This module gives that value without an ANTLR runtime: a small LaTeX-to-Python rewrite
fed to SymPy's parser, evaluated only when the result is a number free of symbols. Anything it
cannot read is None, which the caller scores as "not equal", as the official ``except`` does.
"""
from __future__ import annotations

import re

_MACROS = (
    ("\\left", ""), ("\\right", ""), ("\\cdot", "*"), ("\\times", "*"), ("\\div", "/"),
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\pi", " pi "), ("\\infty", " oo "),
    ("\\,", ""), ("\\!", ""), ("\\ ", ""), ("^\\circ", ""), ("^{\\circ}", ""), ("\\%", "/100"),
    ("°", ""), ("π", " pi "), ("√", "sqrt"), ("×", "*"), ("÷", "/"),
)
_FUNCS = {"sin", "cos", "tan", "log", "ln", "exp", "sqrt"}
_SAFE = re.compile(r"^[0-9a-z_+\-*/().,\s]*$")
MAX_EXPONENT = 1000  # 9^{9^{9^9}} in a response must not hang the scorer


def _group(text: str, i: int) -> tuple[str, int]:
    """The ``{...}`` group (or single character) starting at ``i``; returns (content, next index)."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        raise ValueError("missing argument")
    if text[i] != "{":
        return text[i], i + 1
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
    raise ValueError("unbalanced braces")


def to_python(latex: str) -> str:
    """Rewrite LaTeX math into a Python/SymPy expression string (raises ValueError when unsure)."""
    text = latex.strip().strip("$")
    for old, new in _MACROS:
        text = text.replace(old, new)
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("\\frac", i):
            num, i = _group(text, i + 5)
            den, i = _group(text, i)
            out.append(f"(({to_python(num)})/({to_python(den)}))")
        elif text.startswith("\\sqrt", i):
            i += 5
            root = None
            if i < len(text) and text[i] == "[":
                end = text.index("]", i)
                root, i = text[i + 1:end], end + 1
            arg, i = _group(text, i)
            out.append(f"(({to_python(arg)})**(1/({to_python(root)})))" if root else f"sqrt({to_python(arg)})")
        elif text[i] == "\\":
            m = re.match(r"\\([a-zA-Z]+)", text[i:])
            if not m or m.group(1) not in _FUNCS:
                raise ValueError(f"unsupported macro in {latex!r}")
            out.append(f" {m.group(1)}")
            i += len(m.group(0))
        elif text[i] == "^":
            arg, i = _group(text, i + 1)
            out.append(f"**({to_python(arg)})")
        elif text[i] in "{}":
            out.append("(" if text[i] == "{" else ")")
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def latex_value(latex: str) -> float | None:
    """The float value of a numeric LaTeX expression, or None when it is not a plain number."""
    if not isinstance(latex, str) or not latex.strip() or len(latex) > 200:
        return None
    try:
        expr_text = to_python(latex).lower()
    except (ValueError, RecursionError):
        return None
    if not _SAFE.match(expr_text) or "," in expr_text:
        return None
    names = set(re.findall(r"[a-z_]+", expr_text))
    if names - _FUNCS - {"pi", "e", "oo"}:
        return None
    from sympy import E, Pow, oo, pi, postorder_traversal
    from sympy import log as ln
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    try:
        # unevaluated, so that a power tower is refused below before anything computes it
        expr = parse_expr(expr_text, local_dict={"pi": pi, "e": E, "oo": oo, "ln": ln},
                          transformations=standard_transformations + (implicit_multiplication_application, convert_xor),
                          evaluate=False)
        if not getattr(expr, "is_number", False):
            return None
        for node in postorder_traversal(expr):
            if isinstance(node, Pow) and abs(complex(node.exp.evalf(15))) > MAX_EXPONENT:
                return None
        value = complex(expr.evalf(30))
    except Exception:  # noqa: BLE001 - SymPy raises many kinds on odd input; all mean "not a number"
        return None
    if value.imag != 0 or value.real in (float("inf"), float("-inf")) or value.real != value.real:
        return None
    return value.real
