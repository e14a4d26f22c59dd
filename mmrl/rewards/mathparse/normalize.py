"""Turning the many ways an answer is written into one canonical string.

Handles: math delimiters (``$``, ``\\(…\\)``), sizing and spacing commands, ``\\dfrac``/``\\tfrac``,
unicode operators (``×``, ``−``, ``π``, ``√``, ``²``), degrees (``^\\circ``, ``°``), percentages
(flagged, not dropped), units (``\\text{ cm}``, trailing ``cm``/``meters``/``apples``), dollar
signs, thousands separators (``1,000``, ``1{,}000``, ``1\\,000``) and mixed numbers
(``2\\frac{1}{2}``, ``2 1/2``). Every pattern here is a simple, non-nested regular expression,
so normalising is linear in the (already capped) answer length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_UNICODE = str.maketrans({
    "−": "-", "–": "-", "—": "-", "×": " \\times ", "·": " \\cdot ", "÷": " \\div ", "π": "\\pi ",
    "∞": "\\infty ", "√": "\\sqrt ", "≤": " \\le ", "≥": " \\ge ", "≠": " \\ne ", "∪": " \\cup ",
    "∩": " \\cap ", "²": "^2", "³": "^3", "°": "^\\circ", "％": "%", "，": ",", "：": ":", "（": "(",
    "）": ")", "∅": "\\emptyset ", "±": "\\pm ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "≈": " \\approx ", "∈": " \\in ", "…": " \\ldots ", "ℝ": "\\mathbb{R}", "€": " ", "£": " ", "¥": " ",
    "₹": " ", "₽": " ", "½": " 1/2", "⅓": " 1/3", "⅔": " 2/3", "¼": " 1/4", "¾": " 3/4", "⅕": " 1/5", "⅛": " 1/8",
    "“": "", "”": "", "`": "",
})
_DELIMS = re.compile(r"(?<!\\)\\[()\[\]]|\$")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|bigg|Bigg|big|Big)(?![A-Za-z])\.?")
_THIN_THOUSANDS = re.compile(r"(?<=\d)\\,(?=\d{3}(?!\d))")
# "12,\!000,\!023" and "32,\ 349": a comma and a negative or normal space between thousands
_SPACED_COMMA_THOUSANDS = re.compile(r"(?<=\d),(?:\\[!, ]|\s)*\\[!, ][ \t]*(?=\d{3}(?!\d))")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad|~|\\(?:displaystyle|textstyle|scriptstyle)(?![A-Za-z])")
_FRAC_VARIANTS = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_BINOM_VARIANTS = re.compile(r"\\[dt]binom(?![A-Za-z])")
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ(?![A-Za-z])|\\degree(?![A-Za-z])|\^\s*\{\s*o\s*\}")
_TEXT_CMD = re.compile(
    r"\\(?:text|textrm|textnormal|textbf|textit|textsf|mathrm|mathbf|mathit|mathsf|mbox|operatorname)"
    r"\s*\{([^{}]*)\}(\s*\^\s*\{?\s*[23]\s*\}?)?"
)
_OPERATOR_WORDS = {"and": ",", "or": ","}
_FUNCTION_NAMES = {"sin", "cos", "tan", "cot", "sec", "csc", "ln", "log", "exp", "sqrt", "arcsin", "arccos",
                   "arctan", "sinh", "cosh", "tanh", "e", "d"}
_UNIT_LIKE = re.compile(r"[A-Za-z][A-Za-z .\-/]*\.?(?:\^\{?[23]\}?)?")
_PERCENT_TAIL = re.compile(r"\s*(?:\\?%|(?<![A-Za-z])(?:pct|percent)\.?)\s*$")
_KNOWN_SHORT_UNITS = {"cm", "mm", "km", "kg", "mg", "ml", "mL", "ft", "in", "yd", "mi", "lb", "lbs", "oz", "hr",
                      "hrs", "min", "sec", "deg", "rad", "mph", "kph", "sq"}
_NOT_UNITS = {"sqrt", "infinity", "infty", "times", "plus", "minus", "over", "pi", "and", "or", "frac", "inf"}
_TRAILING_WORD = re.compile(
    r"(?<=[\d})\s])\s*((?:sq\.?|square|cubic)\s+)?([A-Za-z]+)\.?(\^\{?[23]\}?|[²³])?(\s*/\s*[A-Za-z]+)?\s*$"
)
# "20 m", "9.8 m/s^2", "5 N/m": a single-letter SI unit, optionally per a short unit.
_SINGLE_LETTER_UNIT = re.compile(r"(?<=\d)(?:\s+([mgslLhKNJWVA])\.?(\^\{?[23]\}?)?|([mgL])(\^\{?[23]\}?))(\s*/\s*[A-Za-z]{1,3}(\^\{?[23]\}?)?)?\s*$")
# "2:3" is the ratio 2/3
_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)")
# 1,000 / 12,345,678 / 1,000.99 / the Indian 2,50,000; never with a leading 0 (0,111 is a decimal comma)
_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:,\d{2})*(?:,\d{3})+(?:\.\d+)?")
_LATEX_COMMA = re.compile(r"\{,\}|(?<=\d)[ \t]*\{[ \t]*,[ \t]*\}[ \t]*(?=\d)")  # "14{,}916", "14 {, }916"
_MIXED_LATEX = re.compile(r"(?<![\w}^_.)\\])(\d+)[ \t]*\\frac\s*\{(\d+)\}\s*\{(\d+)\}")
# one line only: "11\n5/6" is two lines of working, not the mixed number 11 5/6
_MIXED_PLAIN = re.compile(r"(?<![\w}^_./)\\])(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)(?![\d.])")
_ELLIPSIS = re.compile(r"\\[lcv]?dots(?![A-Za-z])|\.\.\.|\\ldots")
_CURRENCY = re.compile(r"\b(?:US|USD|EUR|GBP|CNY|RMB|JPY|INR|RUB)\s*\$?|(?<=\d)\s*(?:USD|EUR|GBP|CNY|RMB)\b")
_SPACE_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?")
_LATEX_DECIMAL_COMMA = re.compile(r"(?<=\d)\{,\}(?=\d)(?!\d{3}(?!\d))")
_ELEMENT_OF = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s+")
_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\s*\{(\d{1,12})\}")
_REAL_LINE = {"allrealnumbers", "\\mathbbr", "r", "realnumbers", "\\r", "\\reals"}
_LINE_BREAK_BETWEEN_NUMBERS = re.compile(r"(?<=\d)[ \t]*\n[ \t\n]*(?=\d)")
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[.;:]+$")


@dataclass(frozen=True)
class Normalized:
    """A canonical answer string, and whether it was written as a percentage."""

    text: str
    percent: bool = False


def _text_command(match: re.Match, whole: str) -> str:
    content = match.group(1).strip()
    low = content.lower()
    if low in _OPERATOR_WORDS:
        return _OPERATOR_WORDS[low]
    if content in ("E", "D"):
        return content  # \text{E} is the letter (an option, a point), not Euler's number
    if low in _FUNCTION_NAMES:
        return "\\" + low if low not in ("e", "d") else low
    rest = whole[: match.start()] + whole[match.end():]
    if content and _UNIT_LIKE.fullmatch(content) and re.search(r"\d", rest):
        return " "  # a unit after a number: "5\text{ cm}^2" is 5
    return content if not match.group(2) else content + match.group(2)


def _strip_trailing_units(s: str) -> str:
    for _ in range(4):  # "5 square meters per second" at most a few words
        m = _TRAILING_WORD.search(s)
        if m is None:
            break
        word = m.group(2)
        if word in _NOT_UNITS or word.lower() in _FUNCTION_NAMES:
            break
        if len(word) < 4 and word not in _KNOWN_SHORT_UNITS:
            break
        rest = s[: m.start()]
        if not re.search(r"\d", rest):
            break
        s = rest.rstrip()
    m = _SINGLE_LETTER_UNIT.search(s)
    if m is not None:
        s = s[: m.start()].rstrip()
    return s


# A unit in another script after a number: "15 页", "4 公斤", "25 см²", "60(千米/小时)", "12개".
# The unit is the longest tail made of letters of a non-Latin, non-Greek script and the marks
# that go with them (spaces, "/", "()", "^", "2", "3", "."), starting with such a letter after
# "[\s(]*" and right after a digit, "}" or a space. One backward scan finds it.
_UNIT_MARKS = frozenset(" /()^23.")


def _foreign_letter(c: str) -> bool:
    return c > "\x7f" and not ("\u0370" <= c <= "\u03ff") and not c.isspace() and not c.isdecimal()


def foreign_unit_start(s: str) -> int | None:
    """Where a trailing unit in another script begins (see above), or None: linear in ``len(s)``."""
    i = len(s)
    while i > 0 and (_foreign_letter(s[i - 1]) or s[i - 1] in _UNIT_MARKS or s[i - 1].isspace()):
        i -= 1
    # leftmost start at or after i: preceded by a digit, "}" or a space, then [\s(]* and a letter
    letter_at = None  # index of the first foreign letter at or after the current position
    starts = []
    for p in range(len(s) - 1, i - 1, -1):
        c = s[p]
        if _foreign_letter(c):
            letter_at = p
        elif not (c.isspace() or c == "("):
            letter_at = None
        if letter_at is not None and p > 0 and (s[p - 1].isdecimal() or s[p - 1] == "}" or s[p - 1].isspace()):
            starts.append(p)
    return starts[-1] if starts else None


def _strip_foreign_units(s: str) -> str:
    start = foreign_unit_start(s)
    if start is not None and re.search(r"\d", s[:start]):
        return s[:start].rstrip()
    return s


def _strip_trailing_backslashes(s: str) -> str:
    """``5\\`` and ``5 \\ `` are 5: backslashes (and spaces) ending the answer go."""
    t = s.rstrip()
    return t.rstrip("\\") if t.endswith("\\") else s


def _repeating(m: re.Match) -> str:
    """``0.1\\overline{6}`` is 1/6: the exact fraction of a repeating decimal."""
    whole, fixed, period = m.group(1) or "0", m.group(2), m.group(3)
    num = int(whole + fixed + period) - int(whole + fixed)
    den = (10 ** len(period) - 1) * 10 ** len(fixed)
    return f"\\frac{{{num}}}{{{den}}}"


def _mixed(m: re.Match) -> str:
    whole, num, den = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if den == 0 or num >= den:
        return m.group(0)  # "2\frac{3}{2}" is not a mixed number: leave it a product
    return f"({whole}+\\frac{{{num}}}{{{den}}})"


def normalize(text: str) -> Normalized:
    """The canonical string of an answer (see the module docstring for what is removed)."""
    s = text.translate(_UNICODE)
    s = _ELLIPSIS.sub(" \\\\ldots ", s)
    s = _DELIMS.sub(" ", s)
    s = _CURRENCY.sub(" ", s)
    s = _strip_trailing_backslashes(s)
    s = _LINE_BREAK_BETWEEN_NUMBERS.sub(", ", s)
    s = _SIZING.sub("", s)
    s = _SPACED_COMMA_THOUSANDS.sub("", s)
    s = _THIN_THOUSANDS.sub("", s)
    s = _SPACING.sub(" ", s)
    s = _FRAC_VARIANTS.sub("\\\\frac", s)
    s = _BINOM_VARIANTS.sub("\\\\binom", s)
    s = _DEGREES.sub("", s)
    s = _LATEX_DECIMAL_COMMA.sub(".", s)
    s = _LATEX_COMMA.sub("", s)
    if "\\overline" in s:
        s = _REPEATING.sub(_repeating, s)
    s = s.replace("\\$", " ")
    for _ in range(3):  # \text{...} nested in \text{...} is unusual; three passes are plenty
        if "\\" not in s:
            break
        new = _TEXT_CMD.sub(lambda m: _text_command(m, s), s)
        if new == s:
            break
        s = new
    s = _SPACES.sub(" ", s).strip()
    s = _TRAILING_PUNCT.sub("", s).strip()
    percent = False
    if _PERCENT_TAIL.search(s):
        percent = True
        s = _PERCENT_TAIL.sub("", s)
    s = s.replace("\\%", "").replace("%", "")
    s = _strip_foreign_units(s)
    s = _strip_trailing_units(s)
    s = _ELEMENT_OF.sub("", s)
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    elif _SPACE_THOUSANDS.fullmatch(s):
        s = s.replace(" ", "")
    if re.sub(r"[\s{}]", "", s).lower() in _REAL_LINE:
        s = "(-\\infty, \\infty)"
    m = _RATIO.fullmatch(s)
    if m:
        s = f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}"
    s = _MIXED_LATEX.sub(_mixed, s)
    s = _MIXED_PLAIN.sub(_mixed, s)
    return Normalized(s.strip(), percent)


_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?")
_PLAIN_FRACTION = re.compile(r"([-+]?)\\frac\{([-+]?\d{1,50})\}\{([-+]?\d{1,50})\}|([-+]?\d{1,50})/(\d{1,50})")


def plain_number(text: str) -> Fraction | None:
    """The value of a normalised answer that is just a number (``-3``, ``0.5``, ``1e-3``,
    ``\\frac{1}{2}``, ``3/4``), else None. This is the fast path: no parser, no library."""
    if len(text) > 120:
        return None
    if _PLAIN_NUMBER.fullmatch(text):
        return Fraction(text)
    m = _PLAIN_FRACTION.fullmatch(text)
    if m is None:
        return None
    if m.group(2) is not None:
        num, den = int(m.group(2)), int(m.group(3))
        sign = -1 if m.group(1) == "-" else 1
    else:
        num, den, sign = int(m.group(4)), int(m.group(5)), 1
    if den == 0:
        return None
    return sign * Fraction(num, den)


def text_key(text: str) -> str:
    """A loose key for comparing answers as text: case, spaces, braces and ``\\text`` ignored."""
    s = normalize(text).text if len(text) <= 2000 else text
    s = re.sub(r"\\(?:text|mathrm|textbf|mathbf)\s*", "", s)
    return re.sub(r"[\s{}]", "", s).lower()
