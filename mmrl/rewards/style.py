"""The shared ``style`` component: language mixing and repetition (GLM-4.1V's style checks).

A response whose paragraphs switch languages (one dense in Chinese, another dense in English)
scores 0. Otherwise the score is ``1 - r``, where ``r`` is the fraction of its word n-grams
(n = 8; a CJK character counts as a word) that repeat an earlier n-gram: ordinary reasoning
almost never repeats eight words in a row, while a degenerate loop repeats nearly all of them.
LaTeX commands and ``$…$`` maths are ignored when judging a paragraph's language.

The style check passes when the score is at least ``1 - MAX_REPEAT``: no mixed languages and at most
10% repeated n-grams. It decides both what warm-up curation drops and, with the style gate on,
which responses GLM's reward sets to the minimum.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_MATH = re.compile(r"\$[^$]*\$|\\[A-Za-z]+|<[^<>]{0,40}>")
_PARAGRAPH = re.compile(r"\n\s*\n")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+|[^\sA-Za-z0-9]")
MAX_REPEAT = 0.1  # the most repeated n-grams a response may have and still pass the style check
MAX_STYLE_TOKENS = 20_000  # only the last tokens are examined (loops are at the end)


def paragraph_language(text: str, *, min_cjk: int = 10, min_words: int = 5) -> str | None:
    """'zh' for a paragraph dense in Chinese, 'en' for one dense in English, else None."""
    text = _MATH.sub(" ", text)
    cjk = len(_CJK.findall(text))
    words = _LATIN_WORD.findall(text)
    letters = sum(len(w) for w in words)
    if cjk >= min_cjk and cjk >= letters:
        return "zh"
    if len(words) >= min_words and cjk <= 0.1 * (cjk + letters):
        return "en"
    return None


def mixed_language(response: str) -> bool:
    """Whether one paragraph is dense in Chinese and another dense in English."""
    if not _CJK.search(response):
        return False
    paragraphs = _PARAGRAPH.split(response)
    if len(paragraphs) == 1:
        paragraphs = response.splitlines()
    kinds = {paragraph_language(p) for p in paragraphs}
    return "zh" in kinds and "en" in kinds


def repetition(response: str, n: int = 8) -> float:
    """Fraction of word n-grams that repeat an earlier one (0 for short responses)."""
    tokens = _TOKEN.findall(response[-20 * MAX_STYLE_TOKENS:])[-MAX_STYLE_TOKENS:]
    total = len(tokens) - n + 1
    if total < 2 * n:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeated = 0
    for i in range(total):
        gram = tuple(tokens[i:i + n])
        if gram in seen:
            repeated += 1
        else:
            seen.add(gram)
    return repeated / total


def style_score(response: str, params: Mapping[str, Any] | None = None) -> float:
    """The style component in [0, 1]: 0 for mixed languages, else 1 - repetition."""
    params = params or {}
    if params.get("allow_mixed_language", False) is not True and mixed_language(response):
        return 0.0
    return 1.0 - repetition(response, int(params.get("repeat_ngram", 8)))


def style_passes(score: float) -> bool:
    """Whether a style score passes the check: no mixed languages, at most ``MAX_REPEAT`` repeated."""
    return score >= 1.0 - MAX_REPEAT - 1e-12
