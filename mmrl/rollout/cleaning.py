"""Removing spurious special tokens from responses before they are scored.

Models and serving stacks leak control tokens into decoded text (``<|image_pad|>``,
``<|endoftext|>``, ``<|im_end|>``...), which break exact-match and format rewards (V-Triune
removes them before scoring). The reasoning-format tokens that answers are made of
(``<think>``, ``<answer>``, GLM's ``<|begin_of_box|>``) are kept.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

SPURIOUS_TOKENS: tuple[str, ...] = (
    "<|image_pad|>", "<|video_pad|>", "<|vision_pad|>", "<|vision_start|>", "<|vision_end|>",
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>",
    "<image>", "<|image|>", "<|begin_of_image|>", "<|end_of_image|>",
    "<|endofprompt|>", "<|eot_id|>", "<|end_of_text|>", "</s>", "<eos>", "<pad>", "<unk>",
)
KEEP_TOKENS: frozenset[str] = frozenset({
    "<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>", "<|end_of_box|>",
})


class ResponseCleaner:
    """Strips a fixed set of tokens (the spurious list plus a tokenizer's special tokens)."""

    def __init__(self, tokens: Iterable[str] = SPURIOUS_TOKENS, keep: Iterable[str] = KEEP_TOKENS):
        keep = set(keep)
        self.tokens = tuple(sorted({t for t in tokens if t and t not in keep}, key=len, reverse=True))
        self._re = re.compile("|".join(re.escape(t) for t in self.tokens)) if self.tokens else None

    def __call__(self, text: str) -> str:
        return self._re.sub("", text) if self._re is not None else text


def make_cleaner(tokenizer: Any = None, keep: Iterable[str] = KEEP_TOKENS) -> ResponseCleaner:
    """A cleaner for one model: the spurious list plus its tokenizer's special tokens."""
    tokens = list(SPURIOUS_TOKENS)
    tok = getattr(tokenizer, "tokenizer", tokenizer)
    if tok is not None:
        tokens += [t for t in getattr(tok, "all_special_tokens", []) if isinstance(t, str)]
    return ResponseCleaner(tokens, keep)


def clean_response(text: str) -> str:
    """Remove the spurious tokens of the built-in list from a response."""
    return _DEFAULT(text)


_DEFAULT = ResponseCleaner()
