"""The ``math`` verifier: is the extracted answer mathematically the reference?"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mmrl.rewards.base import VerifierResult, param, reference_answers, register_verifier
from mmrl.rewards.extract import ANSWER_CLOSE, ANSWER_OPEN, extract_answer, extract_from_params
from mmrl.rewards.mathparse import Tolerance, math_equal
from mmrl.rewards.mathparse.equiv import DECIMAL_COMMA_MODES, ORDERS

# A question that asks for its answers in a given order: "in increasing order", "ordered pair",
# "respectively", "从小到大", "dans l'ordre"...
ASKS_FOR_ORDER = re.compile(
    r"\b(?:in\s+(?:(?:increasing|decreasing|ascending|descending|that|this|the\s+same)\s+)?order"
    r"|from\s+(?:the\s+)?(?:smallest|least|largest|greatest|lowest|highest)\s+to|ordered\s+(?:pair|triple|tuple|list)"
    r"|respectively|dans\s+l'ordre|respectivement|par\s+ordre|en\s+orden|respectivamente|der\s+reihe\s+nach"
    r"|jeweils|соответственно|по\s+возрастанию|по\s+убыванию)\b|从小到大|从大到小|依次|分别|按顺序",
    re.IGNORECASE,
)


def tolerance_from(params: Mapping[str, Any], rel: float) -> Tolerance:
    return Tolerance(rel=param(params, "rel_tol", rel, float), abs=param(params, "abs_tol", 0.0, float))


def list_order(sample: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """``ordered`` when ``list_order`` says so, or (``auto``) when the question asks for an order."""
    mode = param(params, "list_order", "auto", str)
    if mode not in ORDERS:
        raise ValueError(f"param list_order must be one of {', '.join(ORDERS)}, got {mode!r}")
    question = sample.get("question")
    if mode == "auto" and isinstance(question, str) and ASKS_FOR_ORDER.search(question[-4000:]):
        return "ordered"
    return mode


@lru_cache(maxsize=4096)
def reference_text(gold: str) -> str:
    """A reference as a dataset stores it, taken to its answer exactly as an answer part is.

    ``$\\frac12$``, ``\\boxed{12}``, "The answer is 12.", a GSM8K solution ending in ``#### 7``
    and ``**3**`` all give their answer; a reference that already is an answer is kept. The same
    rules as for a response's ``<answer>`` part, so a response that repeats the reference matches;
    one difference: a brace a reference leaves open is closed at its end (``\\boxed{W = 1`` is a
    typo for ``\\boxed{W = 1}``), where a response cut off inside a box has not given its answer.
    """
    found = extract_answer(f"{ANSWER_OPEN}{close_open_braces(gold)}{ANSWER_CLOSE}", fallback="last_line")
    return found.text if found.text else gold


MAX_TYPO_BRACES = 3  # a typo leaves a brace or two open; a text with more is left as it is


def close_open_braces(text: str) -> str:
    """The text with a ``}`` added at its end for each ``{`` never closed (``\\{`` does not
    count), when at most ``MAX_TYPO_BRACES`` are."""
    depth, i = 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        i += 1
    return text + "}" * depth if depth <= MAX_TYPO_BRACES else text


@register_verifier("math")
def verify_math(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Math answers: symbolic/numeric equivalence (fractions, %, units, x=2, intervals, sets, matrices).

    Params: ``rel_tol`` (1e-6, GLM's math tolerance), ``abs_tol`` (0), ``decimal_comma`` (auto:
    ``1,5`` is 1.5 and ``1,000`` a thousand; never; always), ``list_order`` (auto: tuples in
    order, bare lists in any order unless the question asks for an order; ordered; unordered),
    ``rename_variables`` (false: ``f(y)`` is not ``f(x)``; true accepts the reference with its
    variables renamed, math-verify's ``strict=False``), ``relation_answers_set`` (true:
    ``-2 \\le x \\le 7`` answers ``x \\in [-2, 7]``; false refuses inequalities for a reference
    written as a set, math-verify's default ``allow_set_relation_comp=False``), plus the extraction
    settings ``fallback`` and ``boxes``. A list ``answer`` lists accepted
    alternatives. References written as text or LaTeX are extracted like responses.
    """
    found = extract_from_params(response, params, sentences=True)
    if found.text is None:
        return VerifierResult(0.0, None)
    tol = tolerance_from(params, 1e-6)
    comma = param(params, "decimal_comma", "auto", str)
    if comma not in DECIMAL_COMMA_MODES:
        raise ValueError(f"param decimal_comma must be one of {', '.join(DECIMAL_COMMA_MODES)}, got {comma!r}")
    order = list_order(sample, params)
    rename = param(params, "rename_variables", False, bool)
    relation_for_set = param(params, "relation_answers_set", True, bool)
    ok = any(math_equal(reference_text(gold), found.text, tol, order=order, decimal_comma=comma,
                        rename_variables=rename, relation_answers_set=relation_for_set)
             for gold in reference_answers(sample))
    return VerifierResult(1.0 if ok else 0.0, found.text)
