"""The numeric value of a short LaTeX answer (``\\frac{3}{4}``, ``2\\sqrt{3}``, ``\\pi/2``, ``1.5``).

MathVision's official ``is_equal`` rounds to two places the value Python computes from
``latex2sympy`` of both sides, so only answers with a plain numeric value can match this way.
Two readings, both with mmrl's own bounded math parser (``mmrl.rewards.mathparse``: the text is
tokenised by a small grammar into a tuple AST and evaluated exactly with Fractions or with
mpmath; nothing is handed to Python's evaluator or to SymPy's parser):

- ``official_number``: the value as the official reading gets it, its rules and quirks included
  (what the MATH-Vision scorer's official mode compares);
- ``latex_value``: the value a reader would see (degree signs, unicode ``π``, ``\\frac12``,
  ``6e1`` read), for the lenient mode.

Anything a reading cannot read, anything with a free symbol, and anything beyond the parser's
bounds (``9^{9^{9^9}}``) is None, which the caller scores as "not equal", as the official
``except`` does.
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



def _real(node) -> float | None:
    """The node's numeric value as a float, None when it is not a finite real number."""
    value = numeric(node, None)
    m = mp()
    if m.im(value) != 0 or not m.isfinite(value):
        return None
    return float(m.re(value))

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
        return _real(node)
    except _ERRORS:
        return None


# --- the value MATH-Vision's official is_equal computes ------------------------------------------
# MATH-Vision's ``is_equal`` compares, rounded to 2 places, what Python's evaluator makes of sympy's
# printout of ``latex2sympy(text)`` on both sides, in a
# module whose names are Python's ``math`` functions. That reading has rules of its own, which
# decide verdicts, so mmrl reproduces them here on top of its own bounded parser (never running
# the text): a plain letter is a sympy symbol that ``eval`` cannot name (``e`` included: sympy's
# ``E`` prints as a name ``math`` lacks, so ``6e1`` is no number); ``\frac`` and ``\sqrt`` need
# braces; any character outside LaTeX's ASCII (a unicode degree sign, ``π``, ``−``) is a lexer
# error; ``:`` divides (``3:4`` is 0.75); a comma followed by three digits is a thousands
# separator (``1,000``); ``\log`` without a base is base 10; ``\ln``, ``|x|``, ``\lceil`` and
# ``\sec`` print as names ``math`` lacks. The parser stops, without an error, at a token that
# cannot continue the expression (a closing bracket, ``.``, ``'`` or ``\\``), so ``5)`` and
# ``5.)`` read as 5. The value is an int where Python's ``eval`` yields one (integer literals
# combined by ``+ - *``, non-negative integer powers, ``!``, ``\binom``, ``\lfloor``), else a float.
#
# latex2sympy also keeps module-level state: reading a "differential" (``d`` followed by a letter,
# as nearly every prose answer has: ``needto``, ``provideenough``) overwrites a global, and from then on every text
# with a letter in it fails to read. An official run is in that state after its first prose answer
# (on the published outputs: within the first items), so mmrl reads as in it: ``x = 5`` (which a
# fresh latex2sympy reads as an assignment, 5) and ``\tau`` (a fresh ``math.tau``) are no numbers.

OFFICIAL_MAX_CHARS = 300  # longer text is not read (the official reads on; such text is prose)
_OFFICIAL_COMMANDS = frozenset({
    "frac", "sqrt", "pi", "cdot", "times", "div", "binom", "lfloor", "rfloor", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "log", "exp",
})
_COMMAND = re.compile(r"\\([a-zA-Z]+)")
_THOUSANDS = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?")
_PERCENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\\%")
_INT_FUNCTIONS = frozenset({"fact", "floor"})


def _preprocess_like_latex2sympy(text: str) -> str:
    """The rewrites latex2sympy applies before parsing, and ``\\left``/``\\right`` its grammar drops."""
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    for spacing in ("\\displaystyle", "\\qquad", "\\quad", "~", "\\,", "$"):
        text = text.replace(spacing, " ")
    return text.replace("\\left", "").replace("\\right", "")


def _braced_group_end(text: str, start: int) -> int | None:
    """The index after the ``{...}`` group that opens at ``start``, or None."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return None


def _braced_arguments(text: str) -> bool:
    """Every ``\\frac`` has two ``{}`` arguments and every ``\\sqrt`` a ``{}`` or ``[]`` one."""
    for m in _COMMAND.finditer(text):
        name, at = m.group(1), m.end()
        while at < len(text) and text[at] == " ":
            at += 1
        if name == "frac":
            first = _braced_group_end(text, at)
            if first is None or _braced_group_end(text, first) is None:
                return False
        elif name == "sqrt" and not text.startswith(("{", "["), at):
            return False
    return True


def _official_grammar_ok(text: str) -> bool:
    if not text.isascii() or "|" in text or re.search(r"\^\s*[-+]", text):
        return False
    if any(name not in _OFFICIAL_COMMANDS for name in _COMMAND.findall(text)):
        return False
    return not re.search(r"[a-zA-Z]", _COMMAND.sub(" ", text)) and _braced_arguments(text)


def _without_separators(m: re.Match) -> str:
    """``1,000`` -> ``1000``; ``3,0000`` is ``3,000`` times ``0`` to the official lexer."""
    digits = m.group().replace(",", "")
    return digits + " \\cdot " if m.string[m.end():m.end() + 1].isdigit() else digits


def _rewrite_for_mathparse(text: str) -> str | None:
    """The official reading spelled in mmrl's grammar; None where the official has no number."""
    text = _THOUSANDS.sub(_without_separators, text)
    text = _PERCENT.sub(r"(\1/100)", text)
    if "\\%" in text or "," in text:
        return None
    text = re.sub(r"\\log(?!\s*_)", r"\\log_{10}", text)
    return text.replace(":", "/").replace("\\{", "{").replace("\\}", "}")


def _int_typed(node) -> bool:
    """Whether Python's ``eval`` of sympy's printout of this value gives an int (not a float)."""
    kind = node[0]
    if kind == "n":
        return node[1].denominator == 1
    if kind in ("+", "*"):
        return all(_int_typed(x) for x in node[1])
    if kind == "neg":
        return _int_typed(node[1])
    if kind == "^":
        power = exact(node[2])
        return _int_typed(node[1]) and _int_typed(node[2]) and power is not None and power >= 0
    if kind == "binom":
        return True
    return kind == "f" and node[1] in _INT_FUNCTIONS and _int_typed(node[2])


def _factorials_of_ints(node) -> bool:
    """``math.factorial`` takes ints only: ``\\sqrt[3]{8}!`` (a float 2.0) has no official number."""
    if not isinstance(node, tuple) or not node:
        return True
    if node[0] == "f" and node[1] == "fact" and not _int_typed(node[2]):
        return False
    children = node[1] if node[0] in ("+", "*") else node[1:]
    return all(_factorials_of_ints(x) for x in children if isinstance(x, tuple))


def _official_number_of(text: str) -> int | float | None:
    if not text.strip() or not _official_grammar_ok(text):
        return None
    rewritten = _rewrite_for_mathparse(text)
    if rewritten is None:
        return None
    try:
        node = parse_expression(rewritten)
        if not _factorials_of_ints(node):
            return None
        q = exact(node)
        if q is not None:
            return q.numerator if _int_typed(node) and q.denominator == 1 else float(q)
        return _real(node)
    except _ERRORS:
        return None


_STOP_COMMANDS = ("\\rfloor", "\\rceil", "\\}", "\\\\")


def _stops(text: str) -> list[int]:
    """Where the official parser may stop early: outside every bracket, before a token that
    cannot continue the expression (an unmatched closing bracket or ``\\rfloor``, ``.``, a
    ``'`` that nothing multiplies, ``\\\\``)."""
    out, depth = [], 0
    for i, ch in enumerate(text):
        if depth == 0 and (ch in ")]}" and text[i - 1:i] != "\\" or text.startswith(_STOP_COMMANDS, i)
                           or (ch == "." and not text[i + 1:i + 2].isdigit())
                           or (ch == "'" and not re.match(r"'*[\w\\({\[]", text[i:]))):
            out.append(i)
        depth += 1 if ch in "([{" else -1 if ch in ")]}" else 0
        depth = max(depth, 0)
    return out


def official_number(text: str) -> int | float | None:
    """The number MATH-Vision's official reading gives (latex2sympy, printed, evaluated by Python), else None.

    The whole text first, then (as the official parser stops at a token that cannot continue an
    expression) the text before the first such token that reads: ``5)`` is 5, ``5.)`` is 5.
    """
    if not isinstance(text, str) or len(text) > OFFICIAL_MAX_CHARS:
        return None
    text = _preprocess_like_latex2sympy(text)
    value = _official_number_of(text)
    if value is not None:
        return value
    for stop in _stops(text):
        if stop == 0:
            continue
        value = _official_number_of(text[:stop])
        if value is not None:
            return value
    return None
