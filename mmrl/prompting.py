"""Turning SPEC.md samples into chat messages for a vision-language model.

One place decides how a sample becomes a prompt (rollout, warmup-sft, grpo and eval all call
it), so a model is trained on exactly the prompt format it is later sampled and evaluated with.
Images go where the question's ``<image>`` placeholders are, or first when there are none;
multiple-choice options are rendered into the question as ``(A) ...`` lines.
"""
from __future__ import annotations

from typing import Any


IMAGE_PLACEHOLDER = "<image>"
CHOICE_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

Message = dict[str, Any]


def render_choices(question: str, choices: list[str] | None) -> str:
    """Append lettered options to a question (no-op without choices)."""
    if not choices:
        return question
    lines = [f"({CHOICE_LETTERS[i]}) {c}" for i, c in enumerate(choices)]
    return question.rstrip() + "\nChoices:\n" + "\n".join(lines)


def user_content(text: str, n_images: int) -> list[dict[str, Any]]:
    """Content parts for one user turn: images at ``<image>`` marks, else all images first."""
    marks = text.count(IMAGE_PLACEHOLDER)
    if marks == 0:
        parts: list[dict[str, Any]] = [{"type": "image"} for _ in range(n_images)]
        if text:
            parts.append({"type": "text", "text": text})
        return parts
    if marks != n_images:
        raise ValueError(f"question has {marks} {IMAGE_PLACEHOLDER} placeholders but the sample has {n_images} images")
    parts = []
    for i, chunk in enumerate(text.split(IMAGE_PLACEHOLDER)):
        if i > 0:
            parts.append({"type": "image"})
        if chunk:
            parts.append({"type": "text", "text": chunk})
    return parts


def sample_messages(
    sample: dict[str, Any],
    *,
    system: str | None = None,
    instruction: str | None = None,
    with_response: bool = False,
) -> list[Message]:
    """Chat messages for a sample.

    ``instruction`` (a format/CoT instruction) is appended to the question. With ``with_response``
    the sample's ``response`` becomes the assistant turn (warm-up SFT). A sample given as
    ``messages`` keeps its turns; its ``<image>`` marks are matched to ``images`` in order.
    """
    images = sample.get("images") or []
    sid = sample.get("id", "?")
    out: list[Message] = []
    if system:
        out.append({"role": "system", "content": system})
    if "messages" in sample:
        used = 0
        marked = any(IMAGE_PLACEHOLDER in t.get("content", "") for t in sample["messages"] if t["role"] == "user")
        first_user = True
        for turn in sample["messages"]:
            content = turn["content"]
            if turn["role"] == "user":
                n = content.count(IMAGE_PLACEHOLDER)
                if not marked and first_user:
                    n = len(images)  # no marks in any turn: the images go with the first user turn
                first_user = False
                out.append({"role": "user", "content": user_content(content, n)})
                used += n
            else:
                out.append({"role": turn["role"], "content": content})
        if used != len(images):
            raise ValueError(f"sample {sid}: messages place {used} images but the sample has {len(images)}")
        return out
    text = render_choices(sample["question"], sample.get("choices"))
    if instruction:
        text = f"{text}\n{instruction}"
    out.append({"role": "user", "content": user_content(text, len(images))})
    if with_response:
        if "response" not in sample:
            raise KeyError("response")
        out.append({"role": "assistant", "content": sample["response"]})
    return out


def located_messages(item, **kwargs) -> list[Message]:
    """``sample_messages`` for a Located record, with errors naming its file and line."""
    try:
        return sample_messages(item.record, **kwargs)
    except KeyError as e:
        raise item.error("required field is missing", str(e).strip("'")) from None
    except ValueError as e:
        raise item.error(str(e), "images") from None
