"""Answer extraction shared by every verifier (and by eval's benchmark scorers).

Where the answer is, in order of trust:

1. ``<answer>…</answer>`` (the last one; an unclosed final ``<answer>`` runs to the end). Inside
   it, a GLM box ``<|begin_of_box|>…<|end_of_box|>`` or a ``\\boxed{}`` narrows it further.
2. ``<|begin_of_box|>…<|end_of_box|>`` after the thinking.
3. ``\\boxed{…}`` / ``\\fbox{…}`` after the thinking, with nested braces; with several boxes the
   last one is taken (``boxes="all"`` joins them with ", " — multi-part answers).
4. "the (final) answer is …" / "Answer: …" (the last occurrence, to the end of its line).
5. A configurable fallback: ``none``, ``last_line`` (default), ``last_number`` or ``full``.

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

FALLBACKS = ("none", "last_line", "last_number", "full")
BOX_MODES = ("last", "first", "all")

GLM_BOX_OPEN, GLM_BOX_CLOSE = "<|begin_of_box|>", "<|end_of_box|>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"

# Spurious special tokens a policy sometimes emits (V-Triune strips them before scoring); the GLM
# box markers are answer syntax, not noise, and are kept.
_SPECIAL_TOKEN = re.compile(r"<\|(?!begin_of_box\|>|end_of_box\|>)[A-Za-z0-9_]{1,40}\|>")
_BOX_COMMANDS = ("\\boxed", "\\fbox")
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
    """Contents of the outermost ``\\boxed{…}``/``\\fbox{…}`` groups, in order.

    One pass with an explicit stack: braces escaped as ``\\{``/``\\}`` do not count, a box
    never closed is ignored, and ``\\boxed 5`` (a single token without braces) is accepted.
    """
    if "\\boxed" not in text and "\\fbox" not in text:
        return []
    spans: list[tuple[int, int]] = []
    stack: list[int] = []  # for each open brace: -1, or the content start of a box it opens
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
                    stack.append(j + 1)
                    i = j + 1
                    continue
                if j > i + len(cmd) and j < n:  # "\boxed 5": one whitespace-delimited token
                    k = j
                    while k < n and not text[k].isspace() and text[k] not in "$}":
                        k += 1
                    spans.append((j, k))
                    i = k
                    continue
            i += 2  # skip the escaped character (\{, \}, \\) or the command's first letter
            continue
        if c == "{":
            stack.append(-1)
        elif c == "}" and stack:
            start = stack.pop()
            if start >= 0:
                spans.append((start, i))
        i += 1
    spans.sort()
    outer: list[tuple[int, int]] = []
    for s, e in spans:
        if outer and s < outer[-1][1]:
            continue  # nested inside the previous (outer) box
        outer.append((s, e))
    return [text[s:e].strip() for s, e in outer]


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


def _narrow(content: str, boxes: str) -> str:
    """Inside an answer tag, a box (GLM or ``\\boxed``) is the answer proper."""
    glm = find_glm_boxes(content)
    if glm:
        return _pick(glm, boxes)
    boxed = find_boxed(content)
    if boxed:
        return _pick(boxed, boxes)
    return content.strip()


def _fallback(region: str, fallback: str) -> str | None:
    if fallback == "none":
        return None
    text = _TAG.sub(" ", region).strip()
    if not text:
        return None
    if fallback == "full":
        return text
    if fallback == "last_number":
        last = None
        for m in _NUMBER.finditer(text):
            last = m.group(0)
        return last
    for line in reversed(text.splitlines()):
        if line.strip():
            return _tidy_sentence(line)
    return None


def extract_answer(response: str, *, fallback: str = "last_line", boxes: str = "last") -> Extraction:
    """Take the final answer out of a response (see the module docstring for the rules)."""
    if fallback not in FALLBACKS:
        raise ValueError(f"fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    if boxes not in BOX_MODES:
        raise ValueError(f"boxes must be one of {', '.join(BOX_MODES)}, got {boxes!r}")
    response = strip_special_tokens(response)
    region = final_region(response)
    tagged = find_tagged(region, ANSWER_OPEN, ANSWER_CLOSE, allow_unclosed=True)
    if tagged:
        text = _narrow(tagged[-1], boxes)
        return Extraction(text, "answer_tag") if text else Extraction(None, "answer_tag_empty")
    glm = find_glm_boxes(region)
    if glm:
        return Extraction(_pick(glm, boxes), "glm_box")
    boxed = find_boxed(region)
    if boxed:
        return Extraction(_pick(boxed, boxes), "boxed")
    said = find_answer_is(region)
    if said:
        return Extraction(said, "answer_is")
    text = _fallback(region, fallback)
    return Extraction(text, f"fallback:{fallback}") if text else Extraction(None, "none")


def extract_from_params(response: str, params: Mapping[str, Any]) -> Extraction:
    """``extract_answer`` with the ``fallback`` and ``boxes`` settings of a verifier's params."""
    return extract_answer(
        response,
        fallback=str(params.get("fallback", "last_line")),
        boxes=str(params.get("boxes", "last")),
    )
