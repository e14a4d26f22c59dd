"""Mulberry's chain-of-thought format, read as the ``<think>/<answer>`` form the rest of mmrl uses.

Mulberry-260k (the data R1-VL warms up on) writes a response as sections::

    ### Image Description: ...
    ### Rationales: ...
    ### Let's think step by step.
    ### Step 1: ...
    ### The final answer is: ...

``think_answer`` turns such a response into ``<think>`` + every section before the final answer +
``</think><answer>`` + the final answer + ``</answer>``: the sections stay as they are (StepRVR
checks them, StepRAR reads the step texts), the answer goes where ``format`` and the answer
extraction look. Responses already in ``<think>/<answer>`` form, or without Mulberry's final-answer
header, are left alone.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from mmrl.io.jsonl import Located
from mmrl.response_format import MULBERRY_FINAL_ANSWER as FINAL_ANSWER
from mmrl.rewards.extract import ANSWER_OPEN, THINK_OPEN


def think_answer(text: str) -> str | None:
    """The ``<think>/<answer>`` form of a Mulberry-format response; None when it is not one."""
    if FINAL_ANSWER not in text or THINK_OPEN in text or ANSWER_OPEN in text:
        return None
    at = text.rfind(FINAL_ANSWER)
    thinking, answer = text[:at].strip(), text[at + len(FINAL_ANSWER):].strip()
    if not thinking or not answer:
        return None
    return f"<think>{thinking}</think><answer>{answer}</answer>"


def converted(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record with its target (``response``, or the last assistant turn of ``messages``) in
    ``<think>/<answer>`` form; None when the target is not in Mulberry's format."""
    if "messages" in record:
        turns = record["messages"]
        last = max((i for i, t in enumerate(turns) if isinstance(t, dict) and t.get("role") == "assistant"),
                   default=None)
        if last is None or not isinstance(turns[last].get("content"), str):
            return None
        text = think_answer(turns[last]["content"])
        if text is None:
            return None
        return {**record, "messages": [*turns[:last], {**turns[last], "content": text}, *turns[last + 1:]]}
    if not isinstance(record.get("response"), str):
        return None
    text = think_answer(record["response"])
    return None if text is None else {**record, "response": text}


def convert_records(items: list[Located]) -> tuple[list[Located], int]:
    """Every record with a Mulberry-format target converted (new records; the input is not
    changed), and how many were."""
    out, count = [], 0
    for item in items:
        new = converted(item.record)
        if new is not None:
            item, count = replace(item, record=new), count + 1
        out.append(item)
    return out, count
