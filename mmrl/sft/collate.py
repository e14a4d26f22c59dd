"""Batching examples: right padding, or packing into one padding-free row.

Padding: sequences are right-padded (pad id, labels -100, attention mask 0). Packing: the
micro-batch's sequences are laid end to end in a single row with no attention mask; each keeps
its own positions (restarting at 0), from which transformers builds a block-diagonal causal
mask, so packed sequences never attend to each other and the loss equals the padded one. For
models with multimodal rotary positions (Qwen-VL's M-RoPE) the per-sequence positions come from
the model's own ``get_rope_index``; text positions are put first as transformers expects of
packed inputs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmrl.sft.example import IGNORE_INDEX, Example

SEQUENCE_KEYS = ("input_ids", "labels", "mm_token_type_ids", "token_type_ids")
IMAGE_KEYS = ("pixel_values", "image_grid_thw")

RopeIndex = Callable[[Example], Any]


def pad_batch(examples: list[Example], pad_token_id: int) -> dict[str, Any]:
    """Right-pad a list of examples into a batch with an attention mask."""
    import torch

    longest = max(int(e["input_ids"].numel()) for e in examples)
    fill = {"input_ids": pad_token_id, "labels": IGNORE_INDEX}
    batch: dict[str, Any] = {}
    for key, parts in _sequences(examples):
        batch[key] = torch.stack([torch.cat([t, t.new_full((longest - t.numel(),), fill.get(key, 0))]) for t in parts])
    lengths = torch.tensor([int(e["input_ids"].numel()) for e in examples])
    batch["attention_mask"] = (torch.arange(longest)[None, :] < lengths[:, None]).long()
    batch.update(_images(examples))
    return batch


def pack_batch(examples: list[Example], rope_index: RopeIndex | None = None) -> dict[str, Any]:
    """Concatenate examples into one row with per-sequence positions and no attention mask.

    The first label of each sequence is ignored so that the last token of one sequence is never
    trained to predict the first of the next (it is a prompt token, ignored anyway when padded).
    """
    import torch

    batch: dict[str, Any] = {}
    for key, parts in _sequences(examples):
        if key == "labels":
            parts = [torch.cat([t.new_full((1,), IGNORE_INDEX), t[1:]]) for t in parts]
        batch[key] = torch.cat(parts)[None, :]
    text = torch.cat([torch.arange(int(e["input_ids"].numel())) for e in examples])[None, :]
    if rope_index is None:
        batch["position_ids"] = text
    else:
        mrope = torch.cat([rope_index(e) for e in examples], dim=-1)  # (3, 1, L)
        batch["position_ids"] = torch.cat([text[None], mrope], dim=0)  # (4, 1, L): text first
    batch.update(_images(examples))
    return batch


def _sequences(examples: list[Example]):
    """(key, per-example 1-D tensors) for each sequence field the examples carry."""
    for key in SEQUENCE_KEYS:
        if key in examples[0]:
            yield key, [e[key] for e in examples]


def _images(examples: list[Example]) -> dict[str, Any]:
    import torch

    out = {}
    for key in IMAGE_KEYS:
        parts = [e[key] for e in examples if key in e]
        if parts:
            out[key] = torch.cat(parts, dim=0)
    return out


def rope_index_of(model) -> RopeIndex | None:
    """The model's multimodal position function for one example, or None for plain 1-D positions."""
    owner = next((m for m in model.modules() if hasattr(m, "get_rope_index")), None)
    if owner is None:
        return None

    def rope_index(example: Example):
        ids = example["input_ids"][None, :]
        types = example.get("mm_token_type_ids")
        types = types[None, :] if types is not None else ids.new_zeros(ids.shape)
        grid = example.get("image_grid_thw")
        positions, _ = owner.get_rope_index(ids, mm_token_type_ids=types, image_grid_thw=grid)
        return positions

    return rope_index


class Collator:
    """Turns a micro-batch of examples into model inputs: padded, or packed when ``packing``."""

    def __init__(self, pad_token_id: int, packing: bool = False, rope_index: RopeIndex | None = None):
        self.pad_token_id, self.packing, self.rope_index = pad_token_id, packing, rope_index

    def __call__(self, examples: list[Example]) -> dict[str, Any]:
        if self.packing:
            return pack_batch(examples, self.rope_index)
        return pad_batch(examples, self.pad_token_id)
