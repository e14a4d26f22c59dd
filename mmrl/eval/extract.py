"""Answer extraction for the benchmark scorers, on top of the reward library's extractor.

Every benchmark's official scorer starts from an *extraction*: the short answer taken out of a
long response (MathVista and MathVerse ask GPT for it). mmrl uses the same extractor as its
training rewards (``mmrl.rewards.extract``: the ``<answer>`` part after the thinking, a box, an
"answer is" phrase), then a benchmark-specific last resort defined here (the last option letter,
number or list). Each result names the rule that fired, so the audit can say why.
"""
from __future__ import annotations

import re

from mmrl.rewards.extract import Extraction
from mmrl.rewards.extract import extract_answer as _reward_extract

__all__ = ["Extraction", "answer_tag", "extract_answer", "last_letter", "last_list", "last_number", "rule_based"]

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_LETTER_ALONE = re.compile(r"(?<![A-Za-z])\(?([A-Z])\)?(?![A-Za-z])")
_LIST = re.compile(r"\[[^\[\]]*\]")
_STRONG = ("answer_tag", "glm_box", "boxed", "answer_is")


def extract_answer(response: str, *, fallback: str = "last_line", boxes: str = "last") -> Extraction:
    """The reward extractor as the official benchmark rules want it: each rule's text as it is
    (no narrowing of sentences, English "answer is" phrases only), so that a benchmark's own
    cleaning and matching see what its reference implementation sees."""
    return _reward_extract(response, fallback=fallback, boxes=boxes, sentences=False)


def answer_tag(response: str) -> Extraction | None:
    """The ``<answer>`` part (a box inside it narrows it; an empty tag gives ``""``), else None."""
    found = extract_answer(response, fallback="none")
    if found.method == "answer_tag":
        return found
    if found.method == "answer_tag_empty":
        return Extraction("", "answer_tag")
    return None


def rule_based(response: str) -> Extraction | None:
    """The strong rules only: ``<answer>`` part, GLM box, ``\\boxed{}``, "the answer is ..."."""
    found = extract_answer(response, fallback="none")
    if found.method == "answer_tag_empty":
        return Extraction("", "answer_tag")
    return found if found.method in _STRONG else None


def last_number(text: str) -> str | None:
    """The last number written in the text (thousands separators removed)."""
    found = _NUMBER.findall(text)
    return found[-1].replace(",", "") if found else None


def last_letter(text: str, n_choices: int) -> str | None:
    """The last standalone option letter (``B``, ``(B)``) among the first ``n_choices`` letters."""
    valid = {chr(ord("A") + i) for i in range(n_choices)}
    found = [m.group(1) for m in _LETTER_ALONE.finditer(text) if m.group(1) in valid]
    return found[-1] if found else None


def last_list(text: str) -> str | None:
    """The last ``[...]`` written in the text."""
    found = _LIST.findall(text)
    return found[-1] if found else None
