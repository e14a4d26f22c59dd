"""Cold-start data curation (``--filter``): GLM-4.1V's cleaning of chain-of-thought data.

A record is dropped when its target response breaks the strict ``<think>…</think><answer>…</answer>``
format, mixes languages (a paragraph dense in Chinese and another dense in English), or repeats
blocks (more than ``max_repeat`` of its 8-word n-grams repeat an earlier one). The checks are the
reward library's own ``format`` and ``style`` components, so SFT keeps exactly what RL rewards.
In a ``messages`` conversation the format is checked on the last assistant turn (earlier turns may
be plain chat) and the style on every assistant turn.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmrl.rewards.format import format_score
from mmrl.rewards.style import MAX_REPEAT, mixed_language, repetition

FORMAT, MIXED, REPEATED = "format", "mixed language", "repeated blocks"


def assistant_texts(record: dict[str, Any]) -> list[str]:
    if "messages" in record:
        return [m["content"] for m in record["messages"] if m.get("role") == "assistant"]
    return [record["response"]] if isinstance(record.get("response"), str) else []


def drop_reason(record: dict[str, Any], max_repeat: float = MAX_REPEAT) -> str | None:
    """Why a record should not be trained on, or None to keep it."""
    texts = assistant_texts(record)
    if not texts or format_score(texts[-1], "strict") < 1.0:
        return FORMAT
    if any(mixed_language(t) for t in texts):
        return MIXED
    if any(repetition(t) > max_repeat for t in texts):
        return REPEATED
    return None


def make_curator(max_repeat: float = MAX_REPEAT) -> Callable[[dict[str, Any]], str | None]:
    return lambda record: drop_reason(record, max_repeat)
