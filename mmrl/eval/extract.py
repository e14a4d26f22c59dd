"""Deterministic answer extraction from free-form responses.

Every benchmark's official scorer starts from an *extraction*: the short answer taken out of a
long response (MathVista and MathVerse ask GPT for it). mmrl replaces that paid step with rules
that are the same for every run: the ``<answer>`` part first (the format mmrl trains for), then a
``\\boxed{}``, then an "answer is ..." phrase, then a benchmark-specific last resort. Each helper
returns the text it found (or None) so that the audit can say which rule fired.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_ANSWER_TAG = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S | re.I)
_GLM_BOX = re.compile(r"<\|begin_of_box\|>(.*?)<\|end_of_box\|>", re.S)
_ANSWER_PHRASE = re.compile(
    r"(?:final answer|correct answer|the answer|answer)\s*(?:is|should be|=|:)\s*:?\s*(.+)", re.I
)
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_LETTER_ALONE = re.compile(r"(?<![A-Za-z])\(?([A-Z])\)?(?![A-Za-z])")
_LIST = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True)
class Extraction:
    """What was taken out of a response and by which rule (for the audit)."""

    text: str | None
    rule: str


def answer_part(response: str) -> str | None:
    """Content of the last ``<answer>...</answer>`` (an unclosed last tag runs to the end)."""
    found = _ANSWER_TAG.findall(response)
    return found[-1].strip() if found else None


def boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (nested braces balanced) or GLM ``<|begin_of_box|>`` box."""
    glm = _GLM_BOX.findall(text)
    start = text.rfind("\\boxed")
    if start < 0:
        return glm[-1].strip() if glm else None
    i = start + len("\\boxed")
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text) or text[i] != "{":
        return glm[-1].strip() if glm else None
    depth, j = 0, i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
        j += 1
    return text[i + 1:].strip()  # unbalanced: take the rest


def unbox(text: str) -> str:
    """``\\boxed{X}`` or a GLM box around the whole text -> ``X``; other text unchanged."""
    inner = boxed(text)
    if inner is None:
        return text.strip()
    stripped = text.strip()
    whole = (stripped.startswith("\\boxed") and stripped.endswith("}")) or (
        stripped.startswith("<|begin_of_box|>") and stripped.endswith("<|end_of_box|>"))
    return inner if whole else stripped


def answer_phrase(text: str) -> str | None:
    """What follows the last "the answer is" / "answer:" on its line, without a final period."""
    found = None
    for line in text.splitlines():
        for m in _ANSWER_PHRASE.finditer(line):
            found = m.group(1)
    if found is None:
        return None
    found = found.strip().strip("*").strip()
    found = re.sub(r"\.\s*$", "", found).strip()
    return found or None


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


def tagged_or_boxed(response: str) -> Extraction | None:
    """The two rules every benchmark tries first: the ``<answer>`` part (unboxed), then a box."""
    part = answer_part(response)
    if part is not None:
        return Extraction(unbox(part), "answer_tag")
    box = boxed(response)
    if box is not None:
        return Extraction(box, "boxed")
    return None


def final_answer(response: str) -> Extraction:
    """The general rule chain: ``<answer>`` part, box, "answer is" phrase, else the last line."""
    found = tagged_or_boxed(response)
    if found is not None:
        return found
    phrase = answer_phrase(response)
    if phrase is not None:
        return Extraction(phrase, "answer_phrase")
    lines = [ln.strip() for ln in response.strip().splitlines() if ln.strip()]
    if lines:
        return Extraction(lines[-1], "last_line")
    return Extraction(None, "empty")
