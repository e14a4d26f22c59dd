"""The image-token guard: know a prompt's length before the model sees it.

Users of every peer trainer report "Image features and image tokens do not match": a prompt
longer than ``max_prompt_length`` is truncated, the truncation cuts into the image's
placeholder tokens, and the model then finds fewer placeholders than image features. mmrl never
truncates a prompt. It counts the tokens a prompt will take (text tokens plus the image tokens
each resized image expands to) and refuses a prompt that does not fit, naming the sample.
It also refuses text that itself contains the image placeholder token, the other way to get
the same crash.
"""
from __future__ import annotations

from typing import Any

from mmrl.rollout.types import Prompt


def image_placeholder(processor: Any) -> str | None:
    """The token that stands for one image in templated text (``<|image_pad|>`` for Qwen-VL)."""
    return getattr(processor, "image_token", None)


def prompt_length(prompt: Prompt, processor: Any) -> int:
    """Tokens the model will see: templated text with each image placeholder expanded."""
    tokenizer = getattr(processor, "tokenizer", processor)
    text_tokens = len(tokenizer(prompt.text, add_special_tokens=False)["input_ids"])
    return text_tokens - len(prompt.images) + prompt.image_tokens


def check_prompt_fits(prompt: Prompt, processor: Any, limit: int | None) -> int:
    """Raise a DataError naming the sample when its prompt cannot be encoded as is; return its length."""
    if prompt.text is None:
        raise ValueError("prompt has no templated text; build it with the backend's processor")
    token = image_placeholder(processor)
    if token:
        marks = prompt.text.count(token)
        if marks != len(prompt.images):
            raise prompt.error(
                f"the prompt has {marks} image placeholder(s) {token!r} but the sample has {len(prompt.images)} "
                f"image(s); does the text contain {token!r} itself?",
                "question",
            )
    length = prompt_length(prompt, processor)
    if limit is not None and length > limit:
        raise prompt.error(
            f"prompt is {length} tokens ({prompt.image_tokens} of them image tokens after resizing to the "
            f"processor's pixel bounds) but max_prompt_length is {limit}; lower --max-pixels or raise "
            f"--max-prompt-length (mmrl never truncates a prompt: truncation cuts image tokens)",
            "images" if prompt.images else "question",
        )
    return length
