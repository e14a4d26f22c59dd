"""Answer extraction shared by every verifier (and by eval's benchmark scorers).

Where the answer is, in order of trust:

1. ``<answer>…</answer>`` (the last one; an unclosed final ``<answer>`` runs to the end). Inside
   it, a GLM box ``<|begin_of_box|>…<|end_of_box|>`` or a ``\\boxed{}`` narrows it further.
2. ``<|begin_of_box|>…<|end_of_box|>`` after the thinking.
3. ``\\boxed{…}`` / ``\\fbox{…}`` after the thinking, with nested braces; with several boxes the
   last one is taken, with the boxes right before it that only "and", commas, spacing or the
   name of the next part separate (``\\boxed{1}, \\boxed{2}`` is the answer "1, 2");
   ``boxes="all"`` joins every box with ", ". An answer phrase with mathematics after the last
   box ("… \\boxed{255} … The final answer is $10,455$") wins over the box.
4. An answer phrase, the last one: "the (final) answer is …", "Answer: …", "####", "la réponse
   est", "答案是", "Ответ:", ... (``mmrl.rewards.phrases``), to the end of its line (or the next
   line when the phrase ends its line).
5. A configurable fallback: ``none``, ``last_line`` (default: the last line that holds a number
   or math, else the last line), ``last_number``, ``full``, or ``math``: only an answer written as
   LaTeX counts, the last math span, with inline math (``$…$``, ``\\(…\\)``) on one line and
   display math (``$$…$$``, ``\\[…\\]``) on any number (math-verify's LaTeX-only extraction; a
   plain number on a line of its own is not an answer in this mode).

What rules 1, 4 and 5 find is often a sentence ("The answer is 4", "So she has **15 pages**.",
"Il reste 2,5 kg."); ``answer_in_sentence`` then narrows it to the answer, in this order: a bare
answer is kept as it is; else the answer after an answer phrase inside it; a ``**bold**`` part; the
last math span (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``); a number in square brackets
(``[90]``); the longest tail of the sentence that is mathematics (``x = 2 and x = 3``); the last
number, with its sign, separators and glued unit (``1,000.99m²``, ``2,74 $``, "negative 3").
After an answer phrase the *first* answer counts ("The answer is 4, not 5"); in a bare sentence,
the last. ``sentences=False`` keeps the raw text of each rule (the benchmark scorers' official
rules want it).

"After the thinking" means after the last ``</think>`` when there is one: an answer the model
only considered while thinking is not its answer. Every scan here is linear in the response
length (no backtracking regular expressions, no recursion), so 50 KB responses and 10,000
nested braces cost microseconds, not minutes.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmrl.response_format import GLM_BOX_CLOSE, GLM_BOX_OPEN
from mmrl.rewards.phrases import ANSWER_PHRASE

FALLBACKS = ("none", "last_line", "last_number", "full", "math")
BOX_MODES = ("last", "first", "all")

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"

# Spurious special tokens a policy sometimes emits (V-Triune strips them before scoring); the GLM
# box markers are answer syntax, not noise, and are kept.
_SPECIAL_TOKEN = re.compile(r"<\|(?!begin_of_box\|>|end_of_box\|>)[A-Za-z0-9_]{1,40}\|>")
_BOX_COMMANDS = ("\\boxed", "\\fbox")
# "\\boxed{\\frac{\\pi}{2}}": answers copied through one level of string escaping. A LaTeX
# line break right before one of these command names is not plausible, so the pair is one "\"
# (a third backslash before them is a line break and a command: "\\\end{pmatrix}").
_DOUBLED_COMMAND = re.compile(
    r"(?<!\\)\\\\(?=(?:boxed|fbox|frac|dfrac|tfrac|left|right|le|leq|ge|geq|neq|pi|sqrt|text|mathrm|cdot|times|infty"
    r"|in|cup|cap|pm|circ|begin|end)(?![A-Za-z]))"
)
ANSWER_IS = re.compile(
    r"\b(?:final\s+answer|the\s+answer|answer)\s*(?:is\b|:|=)\s*:?[ \t]*([^\n]*)", re.IGNORECASE
)
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?|[-+]?\.\d+%?")
_TAG = re.compile(r"</?(?:think|answer)>")


@dataclass(frozen=True)
class Extraction:
    """The extracted answer text (None when nothing was found) and the rule that found it."""

    text: str | None
    method: str


def strip_special_tokens(response: str) -> str:
    """Remove ``<|image_pad|>``-style tokens (not the GLM answer-box markers)."""
    if "<|" not in response:
        return response
    return _SPECIAL_TOKEN.sub("", response)


def undouble_commands(text: str) -> str:
    """``\\\\frac`` -> ``\\frac`` for the command names of ``_DOUBLED_COMMAND``."""
    return _DOUBLED_COMMAND.sub(lambda m: "\\", text) if "\\\\" in text else text


def final_region(response: str) -> str:
    """The part of a response after its thinking: after the last ``</think>``, else all of it."""
    cut = response.rfind(THINK_CLOSE)
    return response if cut < 0 else response[cut + len(THINK_CLOSE):]


def find_tagged(text: str, open_tag: str, close_tag: str, *, allow_unclosed: bool = False) -> list[str]:
    """Contents of every ``open…close`` pair, in order (non-nesting tags, linear scan).

    With ``allow_unclosed`` a final opening tag without its close yields the rest of the text
    (a response cut off by the length limit, or whose stop string was eaten).
    """
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(open_tag, pos)
        if start < 0:
            return out
        body = start + len(open_tag)
        end = text.find(close_tag, body)
        if end < 0:
            if allow_unclosed:
                out.append(text[body:])
            return out
        out.append(text[body:end])
        pos = end + len(close_tag)


def find_boxed(text: str) -> list[str]:
    """Contents of the outermost ``\\boxed{…}``/``\\fbox{…}`` groups, in order (see ``boxed_spans``)."""
    return [content for _, _, content in boxed_spans(text)]


def boxed_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, content)`` of the outermost ``\\boxed{…}``/``\\fbox{…}`` groups, in order.

    One pass with an explicit stack: braces escaped as ``\\{``/``\\}`` do not count, a box
    never closed is ignored, and ``\\boxed 5`` (a single token without braces) is accepted.
    ``start`` is the backslash of the command, ``end`` just after the box.
    """
    if "\\boxed" not in text and "\\fbox" not in text:
        return []
    spans: list[tuple[int, int, int, int]] = []
    stack: list[tuple[int, int]] = []  # for each open brace: (-1, -1), or (command start, content start)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            cmd = next((b for b in _BOX_COMMANDS if text.startswith(b, i)), None)
            if cmd is not None:
                j = i + len(cmd)
                while j < n and text[j] == " ":
                    j += 1
                if j < n and text[j] == "{":
                    stack.append((i, j + 1))
                    i = j + 1
                    continue
                if j > i + len(cmd) and j < n:  # "\boxed 5": one whitespace-delimited token
                    k = j
                    while k < n and not text[k].isspace() and text[k] not in "$}":
                        k += 1
                    spans.append((i, j, k, k))
                    i = k
                    continue
            i += 2  # skip the escaped character (\{, \}, \\) or the command's first letter
            continue
        if c == "{":
            stack.append((-1, -1))
        elif c == "}" and stack:
            cmd_start, start = stack.pop()
            if start >= 0:
                spans.append((cmd_start, start, i, i + 1))
        i += 1
    spans.sort()
    outer: list[tuple[int, int, str]] = []
    for cmd_start, s, e, end in spans:
        if outer and cmd_start < outer[-1][1]:
            continue  # nested inside the previous (outer) box
        outer.append((cmd_start, end, text[s:e].strip()))
    return outer


# What may stand between boxes that together give one answer: "\boxed{1}, \boxed{2}",
# "\boxed{-2} \quad \text{and} \quad \boxed{1}", "$\boxed{x=1}$ and $\boxed{x=2}$", the name
# of the next part: "\(y_1 = \boxed{…}\) and \(y_2 = \boxed{…}\)", and the part a box answers:
# "\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}", and signs that state nothing
# between two final answers ("\boxed{35 cm} ++++++ \boxed{4}").
_BOX_JOINER = re.compile(
    r"(?:\s|[,;$&+]|\\[()\[\]]|\\q?quad(?![A-Za-z])|\\[,;: ]|~|(?<![A-Za-z])(?:and|or)(?![A-Za-z])"
    r"|\\text\s{0,4}\{|\}|(?<![A-Za-z])(?:for|in|of)?\s{0,4}(?:part|case|question)\s{0,4}"
    r"(?:\((?:[a-h]|[ivx]{1,4}|\d{1,2})\)|(?:[a-h]|[ivx]{1,4}|\d{1,2})(?![A-Za-z\d]))"
    r"|[A-Za-z](?:_\{?\w{1,3}\}?)?\s{0,4}=)*"
)
# Quantities listed each with its unit word: "\boxed{1} papers and \boxed{2} bins" (the word
# after each box, "and", "or" or a comma between them).
_UNIT_JOINER = re.compile(r"\s{0,4}[A-Za-z]{1,20}\s{0,4}(?:,|;|&|(?<![A-Za-z])(?:and|or))\s{0,4}")
_UNIT_AFTER = re.compile(r"\s{0,4}[A-Za-z]{1,20}(?![A-Za-z])")
MAX_BOX_GROUP = 16


def _joins(gap: str, after: str) -> bool:
    """Whether ``gap`` between two boxes joins them (``after`` is the text after the later box)."""
    if len(gap) > 80:
        return False
    if _BOX_JOINER.fullmatch(gap):
        return True
    return _UNIT_JOINER.fullmatch(gap) is not None and _UNIT_AFTER.match(after) is not None


def last_box_group(spans: list[tuple[int, int, str]], text: str) -> str:
    """The last box, with the boxes before it that only joiners separate, joined by ", "."""
    parts = [spans[-1][2]]
    for k in range(len(spans) - 1, 0, -1):
        gap = text[spans[k - 1][1]:spans[k][0]]
        if len(parts) >= MAX_BOX_GROUP or not _joins(gap, text[spans[k][1]:spans[k][1] + 30]):
            break
        parts.insert(0, spans[k - 1][2])
    return ", ".join(parts)


def find_glm_boxes(text: str) -> list[str]:
    """Contents of every ``<|begin_of_box|>…<|end_of_box|>`` pair."""
    return [t.strip() for t in find_tagged(text, GLM_BOX_OPEN, GLM_BOX_CLOSE)]


def find_answer_is(text: str) -> str | None:
    """The text after the last "the answer is" / "Answer:", up to the end of its line."""
    last = None
    for m in ANSWER_IS.finditer(text):
        if m.group(1).strip():
            last = m.group(1)
    if last is None:
        return None
    return _tidy_sentence(last)


def _tidy_sentence(text: str) -> str:
    # "**B**." or "$5$." styling around a phrase-level answer
    text = text.strip().strip("*").strip()
    if text.endswith("."):
        text = text[:-1]
    return text.strip().strip("*").strip()


# --- answers inside sentences ---------------------------------------------------------------------
MAX_SENTENCE_CHARS = 2000  # a sentence is cut to its last 2,000 characters before narrowing
_BOLD = re.compile(r"\*\*([^*\n]{1,300}?)\*\*|__([^_\n]{1,300}?)__")
_MATH_SPAN = re.compile(
    r"(?<!\\)\$\$(.{1,500}?)(?<!\\)\$\$|(?<![\\$])\$(?!\$)(.{1,500}?)(?<![\\$])\$|\\\((.{1,500}?)\\\)|\\\[(.{1,500}?)\\\]",
    re.S,
)
# the same spans with inline math kept to one line, as typeset text has it (``fallback="math"``)
_ONE_LINE_MATH_SPAN = re.compile(
    r"(?<!\\)\$\$(.{1,500}?)(?<!\\)\$\$|(?<![\\$])\$(?!\$)([^\n]{1,500}?)(?<![\\$])\$|\\\(([^\n]{1,500}?)\\\)"
    r"|\\\[(.{1,500}?)\\\]",
    re.S,
)
_BRACKETED = re.compile(r"\[\s*([-+−]?\d[^\[\]\n]{0,40}?)\s*\]")
_CODE_SPAN = re.compile(r"^`([^`]{1,200})`$")
_QUOTED = re.compile(r'^\\?"([^"]{1,200}?)\\?"[.]?$')  # '"$12$ and $13$"', also escaped
_SENTENCE_NUMBER = re.compile(
    r"(?:(?<![\w.,])(?P<neg>negative|minus)\s+)?(?<![A-Za-z])"
    r"(?P<num>[-+−]?(?:\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:[  ]\d{3})+(?![\d.,])"
    r"|\d+(?:[.,]\d+)?)(?:\s*/\s*\d+(?![.,]\d))?(?:\s*%)?)"
)
_EDGE_PUNCT = "。．.！?？;；:：,，、*_ \t\n"
_WORD_START = re.compile(r"(?:^|(?<=\s))\S")


_LEAD_PUNCT = "。．！?？;；:：,，、*_ \t\n"
_APPROX_SIGN = re.compile(r"\\approx(?![A-Za-z])|≈")
_END_MARKS = {"\\blacksquare", "\\square", "\\Box", "\\qed", "\\checkmark", "\\quad"}
# prose words inside a candidate answer ("est de 2,5 kg"); maths words and joiners are allowed
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_MATH_WORDS = {"and", "or", "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "sqrt", "pi", "infty",
               "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "lcm", "gcd", "max", "min", "mod",
               "matrix", "pmatrix", "bmatrix", "vmatrix", "Bmatrix", "Vmatrix", "array", "cases"}


def tidy_answer(text: str) -> str:
    """Strip the dressing around an answer: spaces, markdown bold, a code span, end punctuation."""
    text = text.strip()
    m = _CODE_SPAN.match(text) or _QUOTED.match(text)
    if m:
        text = m.group(1)
    for _ in range(3):
        ellipsis = text.rstrip().endswith(("...", "…"))
        # "1, 2, 3, ..." is an infinite sequence: its dots are not a sentence's full stop
        new = text.lstrip(_LEAD_PUNCT).rstrip() if ellipsis else text.lstrip(_LEAD_PUNCT).rstrip(_EDGE_PUNCT)
        while new.endswith("!") and not (len(new) > 1 and (new[-2].isalnum() or new[-2] in ")}]")):
            new = new[:-1].rstrip()  # "Done!" ends a sentence; "5!" is a factorial
        if new.endswith("!") and re.search(r"[A-Za-z]{2,}!$", new):
            new = new[:-1]
        if new.endswith("\\") and not new.endswith("\\\\"):
            new = new[:-1]  # a stray trailing backslash
        if new == text:
            break
        text = new
    return text.strip()


def is_bare_answer(text: str) -> bool:
    """Whether the text already is an answer (mathematics, a number with a unit), not prose.

    An exact value followed by its approximation (``\\frac{1}{\\sqrt3} \\approx 0.577``) is one.
    """
    from mmrl.rewards.mathparse.values import Text, parse_answer

    if not text or len(text) > 300:
        return False
    text = _APPROX_SIGN.split(text)[0].strip() or text
    return not isinstance(parse_answer(text), Text)


def has_prose(text: str) -> bool:
    """Whether a candidate answer holds words of prose ("de", "jus", "est"), not only mathematics."""
    from mmrl.rewards.mathparse.normalize import normalize

    norm = normalize(text).text
    return any(w.group(0).lower() not in _MATH_WORDS for w in _PROSE_WORD.finditer(norm))


def _mathy(text: str) -> bool:
    if any(c.isdigit() for c in text):
        return True
    bare = re.sub(r"\\[\[\]()]|\$", "", text)
    return "\\" in bare


def phrase_tail(text: str) -> str | None:
    """The text after the last answer phrase, to the end of its line (or the next non-empty line)."""
    last = None
    for m in ANSWER_PHRASE.finditer(text):
        last = m
    if last is None:
        return None
    rest = text[last.end():]
    line, _, after = rest.partition("\n")
    if tidy_answer(line):
        return line
    for nxt in after.split("\n"):
        if tidy_answer(nxt):
            return nxt
    return None


def last_bold(text: str) -> str | None:
    """The last ``**bold**`` (or ``__bold__``) part, a common way to mark the result; a bold part
    followed by a colon is a heading ("**结论**：…", "**Step 2:**"), not the result."""
    found = [m.group(1) or m.group(2) for m in _BOLD.finditer(text)
             if not _is_heading(m.group(1) or m.group(2), text[m.end():m.end() + 3])]
    return found[-1].strip() if found else None


def _is_heading(bold: str, after: str) -> bool:
    return bold.rstrip().endswith((":", "：")) or after.lstrip(" ").startswith((":", "："))


def math_spans(text: str) -> list[str]:
    """Contents of the ``$…$``, ``$$…$$``, ``\\(…\\)`` and ``\\[…\\]`` spans, in order (an
    end-of-proof mark such as ``$\\blacksquare$`` is not a span of the answer)."""
    return [content for _, _, content in _span_matches(text)]


def _span_matches(text: str, pattern: re.Pattern = _MATH_SPAN) -> list[tuple[int, int, str]]:
    out = []
    for m in pattern.finditer(text):
        content = next(g for g in m.groups() if g is not None).strip()
        if content and content not in _END_MARKS:
            out.append((m.start(), m.end(), content))
    return out


_SPAN_JOINER = re.compile(r"^\s*(?:,|;|and|or|et|ou|und|y|e|和|或|、|，)?\s*$", re.IGNORECASE)


def _joined_spans(text: str, spans: list[tuple[int, int, str]], first: int) -> str:
    """The span at ``first`` with the spans after it that only "and"/"," separate ("$12$ and $13$")."""
    parts = [spans[first][2]]
    for k in range(first + 1, min(len(spans), first + 8)):
        if not _SPAN_JOINER.match(text[spans[k - 1][1]:spans[k][0]]):
            break
        parts.append(spans[k][2])
    return ", ".join(value_of(p) for p in parts) if len(parts) > 1 else value_of(parts[0])


def last_math_answer(text: str) -> str | None:
    """The last math span, joined with the spans before it that only "and"/"," separate
    ("$x_1 = 1$ and $x_2 = -4$"); None when a number is written after it (that comes later)."""
    spans = _span_matches(text)
    if not spans:
        return None
    start, end, content = spans[-1]
    if sentence_numbers(re.sub(r"\*\*|__", "", text[end:])):
        return None
    parts = [content]
    for prev_start, prev_end, prev in reversed(spans[:-1]):
        if not _SPAN_JOINER.match(text[prev_end:start]) or len(parts) >= 8:
            break
        parts.insert(0, prev)
        start = prev_start
    return ", ".join(value_of(p) for p in parts)


def value_of(text: str) -> str:
    """``\\angle ABC = 60^\\circ`` -> ``60^\\circ``: the right side of an equation whose left side is
    not mathematics mmrl reads (a limit, an angle name); a readable answer is kept."""
    if "=" not in text or is_bare_answer(text):
        return text
    rhs = tidy_answer(text.rsplit("=", 1)[1])
    return rhs if rhs and is_bare_answer(rhs) else text


def bracketed_number(text: str) -> str | None:
    """The last ``[90]`` / ``[45 degrees]``: a number in square brackets (not an interval)."""
    found = [m.group(1) for m in _BRACKETED.finditer(text) if "," not in m.group(1)]
    return found[-1] if found else None


def sentence_numbers(text: str) -> list[str]:
    """Every number in prose, with its sign, separators, fraction bar and percent ("negative 3" is -3)."""
    out = []
    for m in _SENTENCE_NUMBER.finditer(text):
        num = m.group("num").strip()
        out.append(("-" + num.lstrip("+")) if m.group("neg") else num)
    return out


def _foreign_letter(c: str) -> bool:
    return c.isalpha() and c > "\u024f" and not ("\u0370" <= c <= "\u03ff")


_FOREIGN_PUNCT = frozenset("。，、：；！？「」『』《》【】")


def script_math_runs(text: str) -> list[str]:
    """The stretches of a sentence between letters of non-Latin scripts ("每份应该是 (\\frac{2}{5}) 吨"
    gives " (\\frac{2}{5}) "): where the mathematics of a Chinese, Arabic or Hindi sentence is. One pass."""
    runs, start = [], None
    for i, c in enumerate(text):
        if _foreign_letter(c) or c in _FOREIGN_PUNCT:
            if start is not None:
                runs.append(text[start:i])
                start = None
        elif start is None:
            start = i
    if start is not None:
        runs.append(text[start:])
    return runs


def script_math(text: str, *, first: bool) -> str | None:
    """The first (or last) stretch of ``script_math_runs`` that is an answer with a digit."""
    if not any(_foreign_letter(c) for c in text):
        return None
    runs = script_math_runs(text)
    for run in (runs if first else reversed(runs)):
        candidate = tidy_answer(run)
        if candidate and any(ch.isdigit() for ch in candidate) and not has_prose(candidate) \
                and is_bare_answer(candidate):
            return value_of(candidate)
    return None


def _word_starts(text: str, limit: int = 14) -> list[int]:
    return [m.start() for m in _WORD_START.finditer(text)][-limit:]


def math_tail(text: str) -> str | None:
    """The longest tail of a sentence that is mathematics with a digit ("x = 2 and x = 3")."""
    for start in _word_starts(text):
        candidate = tidy_answer(text[start:])
        if candidate.count("$") % 2:
            continue  # a lone "$" is a currency sign or half a span: "2,74 $ a" is not mathematics
        if _mathy(candidate) and _starts_like_math(candidate) and not has_prose(candidate) \
                and is_bare_answer(candidate):
            return candidate
    return None


def _starts_like_math(text: str) -> bool:
    return re.match(r"[\d\-+−(\[{\\$|.]|[A-Za-z](?![A-Za-z])", text) is not None


def math_head(text: str) -> str | None:
    """The longest head of a phrase's tail that is mathematics with a digit ("4" of "4, not 5")."""
    ends = [m.start() for m in re.finditer(r"\s", text)][:14] + [len(text)]
    for end in reversed(ends):
        candidate = tidy_answer(text[:end])
        if _mathy(candidate) and not has_prose(candidate) and is_bare_answer(candidate):
            return candidate
    return None


_SENTENCE_END = re.compile(r"(?<=[^\s.])\.\s+(?=[A-Z<])|[。！？]")
_ENCLOSED_EQUATION = re.compile(r"^[(\[]([^()\[\]]*=[^()\[\]]*)[)\]]$")


def first_answer_in(tail: str) -> str:
    """The answer right after an answer phrase: the first bold part, span, box or number, in its
    own sentence ("12,000,023. I hope it is correct." gives 12,000,023)."""
    text = tidy_answer(tail)
    if not text or is_bare_answer(text):
        return text
    end = _SENTENCE_END.search(text)
    if end is not None and end.start() > 0:
        text = tidy_answer(text[:end.start()]) or text
    enclosed = _ENCLOSED_EQUATION.match(text)
    if enclosed and is_bare_answer(enclosed.group(1)):
        return value_of(enclosed.group(1).strip())  # "(35 + 70 = 105)"
    boxed = find_boxed(text)
    if boxed:
        return boxed[0]
    head = text.lstrip("*_ \t")
    if head.startswith(("**", "$", "\\(", "\\[")) or text.startswith(("**", "__")):
        bold = last_bold(text) if text.startswith(("**", "__")) else None
        if bold is not None and text.startswith(("**", "__")):
            return answer_in_sentence(_first_bold(text))
        spans = _span_matches(text)
        if spans:
            return _joined_spans(text, spans, 0)
    head_math = math_head(text)
    if head_math is not None:
        return head_math
    in_script = script_math(text, first=True)
    if in_script is not None:
        return in_script
    numbers = sentence_numbers(text)
    return numbers[0] if numbers else text


def _first_bold(text: str) -> str:
    m = _BOLD.search(text)
    return (m.group(1) or m.group(2)) if m else text


def answer_in_sentence(text: str) -> str:
    """Narrow a sentence to its answer (the order is in the module docstring)."""
    text = tidy_answer(text[-MAX_SENTENCE_CHARS:])
    if not text or is_bare_answer(text):
        return text
    tail = phrase_tail(text)
    if tail is not None:
        return first_answer_in(tail)
    bold = last_bold(text)
    if bold is not None and tidy_answer(bold) and tidy_answer(bold) != text:
        return answer_in_sentence(bold)
    span = last_math_answer(text)
    if span is not None:
        if has_prose(span) and len(span) < len(text):
            return answer_in_sentence(span)  # "$? just about 1$": a sentence inside the delimiters
        return value_of(span)
    bracket = bracketed_number(text)
    if bracket is not None:
        return bracket
    tail_math = math_tail(text)
    if tail_math is not None:
        return tail_math
    in_script = script_math(text, first=False)
    if in_script is not None:
        return in_script
    numbers = sentence_numbers(text)
    return numbers[-1] if numbers else text


def last_answer_line(region: str) -> str | None:
    """The last line that holds a number or mathematics (a closing "I hope this helps!" is skipped)."""
    lines = [ln for ln in region.splitlines() if tidy_answer(ln)]
    for line in reversed(lines[-20:]):
        if _mathy(line):
            return line
    return lines[-1] if lines else None


def _pick(items: list[str], boxes: str) -> str:
    if boxes == "first":
        return items[0]
    if boxes == "all":
        seen: list[str] = []
        for it in items:
            if it not in seen:
                seen.append(it)
        return ", ".join(seen)
    return items[-1]


def _boxed_answer(spans: list[tuple[int, int, str]], text: str, boxes: str, group: bool) -> str:
    """The answer the boxes give: the last group of joined boxes (``group``), else per ``boxes``."""
    if group and boxes == "last":
        return last_box_group(spans, text)
    return _pick([c for _, _, c in spans], boxes)


def _narrow(content: str, boxes: str, group: bool) -> str:
    """Inside an answer tag, a box (GLM or ``\\boxed``) is the answer proper."""
    glm = find_glm_boxes(content)
    if glm:
        return _pick(glm, boxes)
    spans = boxed_spans(content)
    if spans:
        return _boxed_answer(spans, content, boxes, group)
    return content.strip()


def _fallback(region: str, fallback: str, sentences: bool) -> str | None:
    if fallback == "none":
        return None
    text = _TAG.sub(" ", region).strip()
    if not text:
        return None
    if fallback == "full":
        return text
    if fallback == "math":
        spans = _span_matches(text[-MAX_SENTENCE_CHARS:], _ONE_LINE_MATH_SPAN)
        if not spans:
            return None
        said = value_of(spans[-1][2]) if sentences else spans[-1][2]
        return answer_in_sentence(said) if sentences and has_prose(said) else said
    if fallback == "last_number":
        if sentences:
            numbers = sentence_numbers(text)
            return numbers[-1] if numbers else None
        last = None
        for m in _NUMBER.finditer(text):
            last = m.group(0)
        return last
    if sentences:
        spans = _span_matches(text[-MAX_SENTENCE_CHARS:])
        tail = text[-MAX_SENTENCE_CHARS:]
        if spans and not tidy_answer(tail[spans[-1][1]:]):
            # the response ends with a display equation (or a few joined by "and")
            said = last_math_answer(tail) or value_of(spans[-1][2])
            return answer_in_sentence(said) if has_prose(said) else said
    line = last_answer_line(text)
    return None if line is None else (answer_in_sentence(line) if sentences else _tidy_sentence(line))


def extract_answer(response: str, *, fallback: str = "last_line", boxes: str = "last",
                   sentences: bool = True) -> Extraction:
    """Take the final answer out of a response (see the module docstring for the rules).

    ``sentences=False`` returns what each rule finds as it is, without narrowing sentences, with
    only the English "answer is" phrases and the last box alone (the benchmark scorers' official
    rules).
    """
    if fallback not in FALLBACKS:
        raise ValueError(f"fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    if boxes not in BOX_MODES:
        raise ValueError(f"boxes must be one of {', '.join(BOX_MODES)}, got {boxes!r}")
    response = undouble_commands(strip_special_tokens(response))
    region = final_region(response)
    tagged = find_tagged(region, ANSWER_OPEN, ANSWER_CLOSE, allow_unclosed=True)
    if tagged:
        text = _narrow(tagged[-1], boxes, sentences)
        if sentences and text and not (find_glm_boxes(tagged[-1]) or find_boxed(tagged[-1])):
            text = answer_in_sentence(text)
        return Extraction(text, "answer_tag") if text else Extraction(None, "answer_tag_empty")
    if sentences and response.lstrip().startswith(THINK_OPEN) and THINK_CLOSE not in response:
        return Extraction(None, "none")  # cut off inside the thinking: it never answered
    glm = find_glm_boxes(region)
    if glm:
        return Extraction(_pick(glm, boxes), "glm_box")
    spans = boxed_spans(region)
    if spans:
        later = _answer_after_boxes(region[spans[-1][1]:]) if sentences else None
        if later:
            return Extraction(later, "answer_is")
        return Extraction(_boxed_answer(spans, region, boxes, sentences), "boxed")
    if sentences:
        tail = phrase_tail(region[-MAX_SENTENCE_CHARS * 4:])
        said = first_answer_in(tail) if tail is not None else None
    else:
        said = find_answer_is(region)
    if said:
        return Extraction(said, "answer_is")
    text = _fallback(region, fallback, sentences)
    return Extraction(text, f"fallback:{fallback}") if text else Extraction(None, "none")


def _answer_after_boxes(after: str) -> str | None:
    """A mathematical answer stated with an answer phrase after the last box ("… \\boxed{255} …
    Final Answer: The final answer is $10,455$."): the box held a step, the phrase the result."""
    tail = phrase_tail(after[-MAX_SENTENCE_CHARS:])
    if tail is None:
        return None
    said = first_answer_in(tail)
    return said if said and _mathy(said) and is_bare_answer(said) else None


def extract_from_params(response: str, params: Mapping[str, Any], *, sentences: bool = False) -> Extraction:
    """``extract_answer`` with the ``fallback`` and ``boxes`` settings of a verifier's params.

    ``sentences`` narrows prose to the answer in it (``math``, ``number``); text verifiers
    (``exact``, ``ocr``) and box verifiers compare what the answer part holds, as it is.
    """
    return extract_answer(
        response,
        fallback=str(params.get("fallback", "last_line")),
        boxes=str(params.get("boxes", "last")),
        sentences=sentences,
    )
