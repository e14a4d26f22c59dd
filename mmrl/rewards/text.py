"""String verifiers: ``exact`` (strict match after chosen normalisation) and ``ocr`` (edit similarity).

GLM-4.1V scores OCR by ``1 - edit_distance / max_len`` with whitespace removed and case kept, so
"43" against "43.0" is 0.5 here while the math verifier calls it right.
"""
from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from mmrl.rewards.base import VerifierResult, param, reference_answers, register_verifier
from mmrl.rewards.extract import extract_from_params

WHITESPACE_MODES = ("collapse", "remove", "keep")
MAX_OCR_CHARS = 20_000  # texts are cut to this many characters before the edit distance
_SPACES = re.compile(r"\s+")
_PUNCT = str.maketrans("", "", string.punctuation + "。，、；：？！“”‘’（）《》")


def normalize_text(text: str, *, case_sensitive: bool = True, whitespace: str = "collapse",
                   strip_punctuation: bool = False, nfkc: bool = True) -> str:
    """Canonical form of a string answer under the chosen rules."""
    if whitespace not in WHITESPACE_MODES:
        raise ValueError(f"whitespace must be one of {', '.join(WHITESPACE_MODES)}, got {whitespace!r}")
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    if strip_punctuation:
        text = text.translate(_PUNCT)
    if not case_sensitive:
        text = text.casefold()
    if whitespace == "collapse":
        text = _SPACES.sub(" ", text).strip()
    elif whitespace == "remove":
        text = _SPACES.sub("", text)
    return text


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute; unit costs), bit-parallel (Myers/Hyyrö).

    One pass over ``a`` with ``len(b)``-bit integers: 20,000 x 20,000 characters take well
    under a second, where the textbook table would take minutes.
    """
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    full = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = full, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def edit_similarity(a: str, b: str) -> float:
    """``1 - edit_distance / max_len`` (1.0 for two empty strings)."""
    a, b = a[:MAX_OCR_CHARS], b[:MAX_OCR_CHARS]
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(a, b) / longest


def _text_options(params: Mapping[str, Any], *, whitespace: str) -> dict[str, Any]:
    return dict(
        case_sensitive=bool(param(params, "case_sensitive", True, bool)),
        whitespace=str(param(params, "whitespace", whitespace, str)),
        strip_punctuation=bool(param(params, "strip_punctuation", False, bool)),
        nfkc=bool(param(params, "nfkc", True, bool)),
    )


@register_verifier("exact")
def verify_exact(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Strict string match (OCR-style): params case_sensitive (true), whitespace collapse|remove|keep.

    Also ``strip_punctuation`` (false) and ``nfkc`` (true: full-width forms fold to ASCII).
    """
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None)
    opts = _text_options(params, whitespace="collapse")
    pred = normalize_text(found.text, **opts)
    ok = any(normalize_text(g, **opts) == pred for g in reference_answers(sample))
    return VerifierResult(1.0 if ok else 0.0, found.text)


@register_verifier("ocr")
def verify_ocr(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """OCR similarity as GLM-4.1V scores it: 1 - edit_distance / max_len, whitespace removed, case kept."""
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None)
    opts = _text_options(params, whitespace="remove")
    pred = normalize_text(found.text, **opts)
    best = max(edit_similarity(normalize_text(g, **opts), pred) for g in reference_answers(sample))
    return VerifierResult(best, found.text)
