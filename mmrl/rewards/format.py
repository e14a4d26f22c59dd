"""The shared ``format`` component: does the response have the think/answer structure?

``strict`` (MM-Eureka, GLM-4.1V): the whole response is ``<think>…</think><answer>…</answer>``
(whitespace around allowed), each tag exactly once, both parts non-empty, and at most one answer
box inside the answer (``\\boxed{}`` or GLM's ``<|begin_of_box|>``); ``require_box`` (GLM) also
demands exactly one GLM box. Scores 1 or 0.

``lenient``: 1 when think precedes answer, each at most once with balanced tags, text around
allowed; 0.5 when only the answer part is right (one answer tag or one box, no think block); else 0.
Plain ``str.find``/``count`` only, so a 50 KB response is scored in microseconds.
"""
from __future__ import annotations

from mmrl.rewards.extract import (
    ANSWER_CLOSE,
    ANSWER_OPEN,
    GLM_BOX_OPEN,
    THINK_CLOSE,
    THINK_OPEN,
    find_boxed,
    strip_special_tokens,
)

FORMAT_MODES = ("strict", "lenient")


def _box_count(text: str) -> int:
    return text.count(GLM_BOX_OPEN) + (len(find_boxed(text)) if "\\boxed" in text or "\\fbox" in text else 0)


def _tags_once(text: str) -> bool:
    return all(text.count(t) == 1 for t in (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE))


def strict_format(response: str, *, require_box: bool = False) -> bool:
    text = response.strip()
    if not (text.startswith(THINK_OPEN) and text.endswith(ANSWER_CLOSE) and _tags_once(text)):
        return False
    think_end = text.find(THINK_CLOSE)
    answer_start = text.find(ANSWER_OPEN)
    if answer_start < think_end or text[think_end + len(THINK_CLOSE):answer_start].strip():
        return False
    thinking = text[len(THINK_OPEN):think_end]
    answer = text[answer_start + len(ANSWER_OPEN):-len(ANSWER_CLOSE)]
    if not thinking.strip() or not answer.strip():
        return False
    boxes = _box_count(answer)
    if require_box:
        return answer.count(GLM_BOX_OPEN) == 1 and boxes == 1
    return boxes <= 1


def lenient_format(response: str) -> float:
    counts = {t: response.count(t) for t in (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)}
    has_answer_tag = counts[ANSWER_OPEN] == 1 and counts[ANSWER_CLOSE] == 1 and \
        response.find(ANSWER_OPEN) < response.find(ANSWER_CLOSE)
    if has_answer_tag and counts[THINK_OPEN] == 1 and counts[THINK_CLOSE] == 1:
        t_open, t_close = response.find(THINK_OPEN), response.find(THINK_CLOSE)
        if t_open < t_close <= response.find(ANSWER_OPEN):
            return 1.0
    if counts[THINK_OPEN] == 0 and counts[THINK_CLOSE] <= 1:
        tail = response[response.find(THINK_CLOSE) + len(THINK_CLOSE):] if counts[THINK_CLOSE] else response
        if has_answer_tag or (counts[ANSWER_OPEN] == 0 and _box_count(tail) == 1):
            return 0.5
    return 0.0


def format_score(response: str, mode: str = "strict", *, require_box: bool = False) -> float:
    """The format component in [0, 1] under ``mode`` (strict or lenient)."""
    response = strip_special_tokens(response)
    if mode == "strict":
        return 1.0 if strict_format(response, require_box=require_box) else 0.0
    if mode == "lenient":
        return lenient_format(response)
    raise ValueError(f"format mode must be one of {', '.join(FORMAT_MODES)}, got {mode!r}")
