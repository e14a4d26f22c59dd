"""The ``choice`` verifier: multiple choice by letter or by the option's text."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmrl.rewards.base import VerifierResult, reference_answers, register_verifier
from mmrl.rewards.extract import extract_from_params
from mmrl.rewards.text import normalize_text

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STYLING = re.compile(r"\\text(?:bf)?\{([^{}]*)\}|\*\*|__|\$")
# The whole answer is a letter, possibly dressed: "B", "(B)", "B.", "B)", "[B]", "B: text", "(B) text".
_LEAD_LETTER = re.compile(r"^\s*[\(\[]?\s*([A-Za-z])\s*[\)\]]?\s*(?:[.:)\]]|$|\s)")
_OPTION_WORD = re.compile(r"\b(?:option|choice|answer)\s*(?:is\s*)?:?\s*[\(\[]?([A-Z])\b[\)\]]?", re.IGNORECASE)
_MARKED_LETTER = re.compile(r"[\(\[]([A-Z])[\)\]]|\b([A-Z])[.)](?=\s|$)")
_MULTI = re.compile(r"^[\(\[]?([A-Z])(?:[\)\]]?\s*(?:,|and|&)?\s*[\(\[]?([A-Z]))+[\)\]]?$")


def _clean(text: str) -> str:
    return _STYLING.sub(lambda m: m.group(1) or "", text).strip()


def _key(text: str) -> str:
    return normalize_text(text, case_sensitive=False, strip_punctuation=True)


def gold_letters(answer: Sequence[str], choices: Sequence[str] | None) -> frozenset[str]:
    """The correct option letters: the answer is a letter, several letters, or an option's text."""
    out = set()
    for item in answer:
        text = _clean(item)
        if choices:
            keys = [_key(c) for c in choices]
            if _key(text) in keys and not (len(text) == 1 and text.upper() in LETTERS[: len(choices)]):
                out.add(LETTERS[keys.index(_key(text))])
                continue
        letters = re.findall(r"[A-Za-z]", text)
        if letters and len(letters) == len(text.replace(",", "").replace(" ", "")):
            out.update(c.upper() for c in letters)
        else:
            m = _LEAD_LETTER.match(text)
            if not m:
                raise ValueError(f"answer {item!r} is neither an option letter nor an option's text")
            out.add(m.group(1).upper())
    return frozenset(out)


def chosen_letters(text: str, choices: Sequence[str] | None) -> frozenset[str]:
    """The option letter(s) an answer picks; empty when it picks none or is ambiguous."""
    text = _clean(text)
    valid = LETTERS[: len(choices)] if choices else LETTERS[:10]
    if choices:
        keys = [_key(c) for c in choices]
        key = _key(text)
        if key in keys and len(text) > 1:
            return frozenset(LETTERS[keys.index(key)])
    upper = text.strip().upper()
    if len(upper) <= 20 and _MULTI.match(upper.replace(" ", "")) and len(text) <= 20:
        letters = set(re.findall(r"[A-Z]", upper.replace("AND", "")))
        if letters and letters <= set(valid):
            return frozenset(letters)
    m = _LEAD_LETTER.match(text)
    if m and m.group(1).upper() in valid:
        letter = m.group(1).upper()
        rest = text[m.end():].strip()
        decorated = text.lstrip()[:1] in "([" or text[m.end(1):].lstrip()[:1] in ".:)]"
        names_option = bool(choices) and _key(rest) == keys[LETTERS.index(letter)]
        if not rest or decorated or names_option:  # "A triangle" is an article, not option A
            return frozenset(letter)
    for pattern in (_OPTION_WORD, _MARKED_LETTER):
        found = {next(g for g in m.groups() if g).upper() for m in pattern.finditer(text)}
        found &= set(valid)
        if len(found) == 1:
            return frozenset(found)
    if choices:
        key = _key(text)
        hits = [i for i, c in enumerate(keys) if c and re.search(rf"(?<!\w){re.escape(c)}(?!\w)", key)]
        if len(hits) == 1:
            return frozenset(LETTERS[hits[0]])
    return frozenset()


@register_verifier("choice")
def verify_choice(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Multiple choice: "B", "(B)", "B.", "B)", "option B", or the option's text; `answer` a letter or text.

    Reads ``choices`` from the sample (letters beyond them do not count); several correct
    letters ("AC") must all be picked, and nothing else.
    """
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None)
    choices = sample.get("choices")
    if choices is not None and not (isinstance(choices, list) and all(isinstance(c, str) for c in choices)):
        raise ValueError("choices must be a list of strings")
    gold = gold_letters(reference_answers(sample), choices)
    picked = chosen_letters(found.text, choices)
    return VerifierResult(1.0 if picked and picked == gold else 0.0, found.text)
