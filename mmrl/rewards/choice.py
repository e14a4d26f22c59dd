"""The ``choice`` verifier: multiple choice by letter or by the option's text.

An answer that is only a letter ("B", "(B)", "**B**", "B. blue") or an option's text is read as it
is. In free text ("it's not A ... therefore I think it's B", "The answer is for sure D, it can't
be A or B", "réponse est C non A", "B。不是 A") the letters are read in context
(``letters_in_text``): each mention of an option letter is found (``letter_mentions``; a
sentence-initial article "A triangle" is not one), letters joined by "and"/"or"/"、"/"et"... form
a group, a group right after a negation ("not", "can't be", "rather than", "non", "pas", "不是",
"排除", "не", "nicht"...) or right before one ("is wrong", "est faux", "错误", "ではありません")
is ruled out, and the answer is the first group left after the last answer phrase ("the answer
is", "la réponse est", "答案是", "故选", "Ответ:"...), else the last group left. A group joined by
"or" is a hedge and picks nothing.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmrl.rewards.base import VerifierResult, reference_answers, register_verifier
from mmrl.rewards.extract import extract_from_params, final_region, find_boxed, find_glm_boxes, strip_special_tokens
from mmrl.rewards.phrases import ANSWER_PHRASE, HEDGE_JOINER, LETTER_JOINER, NEGATION_AFTER, NEGATION_BEFORE, SAME_AS_BEFORE
from mmrl.rewards.text import normalize_text

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STYLING = re.compile(r"\\text(?:bf)?\{([^{}]*)\}|\*\*|__|\$")
# The whole answer is a letter, possibly dressed: "B", "(B)", "B.", "B)", "[B]", "B: text", "(B) text".
_LEAD_LETTER = re.compile(r"^\s*[\(\[]?\s*([A-Za-z])\s*[\)\]]?\s*(?:[.:)\]]|$|\s)")
_OPTION_WORD = re.compile(r"\b(?:option|choice|answer)\s*(?:is\s*)?:?\s*[\(\[]?([A-Z])\b[\)\]]?", re.IGNORECASE)
_MARKED_LETTER = re.compile(r"[\(\[]([A-Z])[\)\]]|\b([A-Z])[.)](?=\s|$)")
_MULTI = re.compile(r"^[\(\[]?([A-Z])(?:[\)\]]?\s{0,8}(?:(?:,|and|&)\s{0,8})?[\(\[]?([A-Z]))+[\)\]]?$")


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
        bare = text.replace(",", "").replace(" ", "")
        if letters and len(letters) == len(bare) and (bare.isupper() or len(bare) == 1):  # "AC", not "Cecile"
            out.update(c.upper() for c in letters)
        else:
            m = _LEAD_LETTER.match(text)
            if m:
                out.add(m.group(1).upper())
                continue
            said = chosen_letters(text, choices)  # "… and the answer is\n(C) Cecile"
            if not said:
                raise ValueError(f"answer {item!r} is neither an option letter nor an option's text")
            out.update(said)
    return frozenset(out)


_MENTION = re.compile(r"(?<![A-Za-z0-9'])[\(\[（【]?([A-Za-z])[\)\]）】]?(?![A-Za-z0-9'’])")
_ARTICLE_FOLLOWERS = {"is", "are", "was", "and", "or", "et", "ou", "est", "es", "ist", "und", "oder", "e", "y",
                      "isn't", "seems", "looks", "can", "could", "would", "will", "must", "should", "has",
                      "remains", "aussi", "too", "also", "sont", "rather", "instead", "plutôt", "if", "then"}


def letter_mentions(text: str, valid: str) -> list[tuple[int, int, str]]:
    """Every mention of an option letter as (start, end, LETTER), in order.

    Capital letters alone, or any letter in brackets; "A" followed by a lower-case word that is not
    a verb or a joiner is the English article (or a Romance one: "A resposta"), not option A.
    """
    out = []
    for m in _MENTION.finditer(text):
        letter = m.group(1)
        bracketed = m.group(0)[0] in "([（【"
        if letter.upper() not in valid or (letter.islower() and not bracketed):
            continue
        if letter in "AI" and not bracketed:
            nxt = re.match(r"\s+([a-zà-ÿ][\w'’]*)", text[m.end():])
            if nxt and nxt.group(1).lower() not in _ARTICLE_FOLLOWERS:
                continue
        out.append((m.start(1), m.end(1), letter.upper()))
    return out


def _groups(text: str, mentions: list[tuple[int, int, str]]) -> list[tuple[int, int, list[str], bool]]:
    """Mentions joined by "and"/"or"/"," into groups: (start, end, letters, joined_by_or)."""
    groups: list[list] = []
    for start, end, letter in mentions:
        if groups:
            between = text[groups[-1][1]:start]
            if LETTER_JOINER.match(between.strip(" )]）】([（【*")) and len(between) <= 12:
                groups[-1][1] = end
                groups[-1][2].append(letter)
                groups[-1][3] = groups[-1][3] or bool(HEDGE_JOINER.search(between))
                continue
        groups.append([start, end, [letter], False])
    return [tuple(g) for g in groups]


def letters_in_text(text: str, valid: str) -> frozenset[str]:
    """The letter(s) a free-text answer picks, negations and answer phrases understood (see the
    module docstring); empty when it picks none or hedges."""
    text = text[-4000:]
    groups = _groups(text, letter_mentions(text, valid))
    if not groups:
        return frozenset()
    alive = []
    previous_out = False
    for start, end, letters, hedge in groups:
        before = text[max(0, start - 40):start]
        before = re.split(r"[.;!?。；！？\n]|\bbut\b|\bmais\b|但是|但", before)[-1]
        before = before.rstrip(" *([（【")
        after = text[end:end + 40]
        out = bool(NEGATION_BEFORE.search(before + " ")) or bool(NEGATION_AFTER.match(after))
        if not out and previous_out and SAME_AS_BEFORE.match(after):
            out = True
        previous_out = out
        if not out:
            alive.append((start, letters, hedge))
    if not alive:
        return frozenset()
    phrase_end = -1
    for m in ANSWER_PHRASE.finditer(text):
        phrase_end = m.end()
    after_phrase = [g for g in alive if g[0] >= phrase_end] if phrase_end >= 0 else []
    _, letters, hedge = after_phrase[0] if after_phrase else alive[-1]
    if hedge and len(set(letters)) > 1:
        return frozenset()
    return frozenset(letters)


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
    in_context = letters_in_text(text, valid)
    if in_context:
        return in_context
    if choices:
        key = _key(text)
        hits = [i for i, c in enumerate(keys) if c and re.search(rf"(?<!\w){re.escape(c)}(?!\w)", key)]
        if len(hits) == 1:
            return frozenset(LETTERS[hits[0]])
    return frozenset()


@register_verifier("choice")
def verify_choice(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Multiple choice: a letter in any dress, in free text (negations, several languages) or the option's text.

    Reads ``choices`` from the sample (letters beyond them do not count); several correct
    letters ("AC") must all be picked, and nothing else.
    """
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None)
    text = found.text
    if found.method.startswith("fallback") or found.method == "answer_is":
        # no answer part and no box: the letters are read in the context of the whole final text
        region = final_region(strip_special_tokens(response)).strip()
        text = region if region and not (find_boxed(region) or find_glm_boxes(region)) else text
    choices = sample.get("choices")
    if choices is not None and not (isinstance(choices, list) and all(isinstance(c, str) for c in choices)):
        raise ValueError("choices must be a list of strings")
    gold = gold_letters(reference_answers(sample), choices)
    picked = chosen_letters(text, choices)
    return VerifierResult(1.0 if picked and picked == gold else 0.0, found.text)
