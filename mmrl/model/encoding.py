"""Prompts as model inputs: the processor's output for a batch of prompts, kept per prompt.

``PromptEncoder`` belongs to whoever holds the model: the RL trainer encodes its log-prob passes
with it and hands it to the hf rollout backend, so a prompt's image is processed once per step
(the rollout encodes it; later batches in other groupings are collated from the kept pieces),
and with a frozen vision tower its image features are computed once too. A prompt is anything
with ``images``; ``text_of`` gives its text as the model reads it (the chat template applied).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any


def context_length(model: Any) -> int | None:
    """The model's context window in tokens, when its config says."""
    cfg = getattr(model, "config", None)
    cfg = getattr(cfg, "text_config", None) or cfg
    value = getattr(cfg, "max_position_embeddings", None)
    return int(value) if value else None


class PromptEncoder:
    """Processor inputs of prompt batches for one loaded model (see the module docstring)."""

    def __init__(self, loaded, text_of: Callable[[Any], str]):
        self.loaded, self.text_of = loaded, text_of
        self.processor, self.tokenizer = loaded.processor, loaded.tokenizer
        self._kept: dict[int, tuple[Any, dict[str, Any]]] | None = None  # see keep_encodings
        self._features = False

    def keep_encodings(self, keep: bool = True, vision_features: bool = False) -> None:
        """Start (again) or stop keeping each prompt's processor output.

        While kept, a prompt's image is processed once: the rollout encodes it, and later batches
        of kept prompts (a trainer's log-prob passes, in other groupings) are collated from the
        kept pieces, equal to what the processor returns. A trainer calls this once per step.

        With ``vision_features`` and a vision tower (projector included) that trains no weight,
        each prompt's image features are computed once too, and every pass gets them in place
        of pixels (transformers' ``mm_encoder_outputs``): the tower runs once per prompt per step."""
        self._kept = {} if keep else None
        self._features = bool(keep and vision_features and frozen_vision(self.loaded.model))

    def encode(self, prompts: list) -> Mapping[str, Any]:
        """Processor inputs of a prompt batch: left-padded ids, mask, pixel values, grids."""
        kept = self._kept
        if kept is not None and prompts and all(kept.get(id(p), (None,))[0] is p for p in prompts):
            inputs = collate_encodings([kept[id(p)][1] for p in prompts], self.tokenizer.pad_token_id or 0)
        else:
            images = [im for p in prompts for im in p.images]
            with _left_padding(self.tokenizer):
                inputs = self.processor(text=[self.text_of(p) for p in prompts], images=images or None,
                                        return_tensors="pt", padding=True)
            if kept is not None:
                pieces = split_encoding(inputs, [len(p.images) for p in prompts])
                for p, piece in zip(prompts, pieces or []):
                    kept[id(p)] = (p, piece)  # the prompt itself is held, so its id cannot be reused
        device = self.loaded.device
        inputs = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in inputs.items()}
        if self._features and "pixel_values" in inputs and all(id(p) in kept for p in prompts):
            inputs = self._with_features(prompts, inputs)
        return inputs

    def _with_features(self, prompts: list, inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` with each image's (kept, or computed now and kept) features instead of pixels."""
        import torch
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        pieces = [self._kept[id(p)][1] for p in prompts]
        missing = [piece for piece in pieces if "pixel_values" in piece and "image_features" not in piece]
        if missing:
            device = self.loaded.device
            with torch.no_grad():
                out = _unwrap(self.loaded.model).model.get_image_features(
                    torch.cat([m["pixel_values"] for m in missing]).to(device),
                    torch.cat([m["image_grid_thw"] for m in missing]).to(device), return_dict=True)
            features = list(out.pooler_output)
            for m in missing:
                count = len(m["image_grid_thw"])
                m["image_features"], features = features[:count], features[count:]
        image = [f for piece in pieces for f in piece.get("image_features", [])]
        rest = {k: v for k, v in inputs.items() if k != "pixel_values"}
        return {**rest, "mm_encoder_outputs": {"image": BaseModelOutputWithPooling(pooler_output=image)}}

def _unwrap(model: Any) -> Any:
    from mmrl.model.prefix import _unwrap as unwrap

    return unwrap(model)


def frozen_vision(model: Any) -> bool:
    """True when the model's vision tower (and projector) train no weight and its image features can
    be handed to its forward (``get_image_features`` and ``mm_encoder_outputs``, transformers 5)."""
    import inspect

    inner = _unwrap(model)
    base = getattr(inner, "model", None)
    visual = getattr(base, "visual", None)
    if visual is None or not callable(getattr(base, "get_image_features", None)):
        return False
    try:
        if "mm_encoder_outputs" not in inspect.signature(inner.forward).parameters:
            return False
    except (TypeError, ValueError):  # pragma: no cover
        return False
    return not any(p.requires_grad for p in visual.parameters())


_ROW_KEYS = ("input_ids", "attention_mask", "mm_token_type_ids")
_IMAGE_KEYS = ("pixel_values", "image_grid_thw")


def split_encoding(inputs: Mapping[str, Any], images_per_prompt: list[int]) -> list[dict[str, Any]] | None:
    """One left-padded processor batch as one piece per prompt (padding removed, its images' patches
    and grids); None for outputs this does not know how to split (videos, other models' fields)."""
    if set(inputs) - set(_ROW_KEYS) - set(_IMAGE_KEYS) or "attention_mask" not in inputs:
        return None
    grid = inputs.get("image_grid_thw")
    patches = grid.prod(-1).tolist() if grid is not None else []
    if sum(images_per_prompt) != len(patches):
        return None
    pieces, image_at, patch_at = [], 0, 0
    for b, count in enumerate(images_per_prompt):
        keep = inputs["attention_mask"][b].bool()
        piece = {k: inputs[k][b][keep] for k in _ROW_KEYS if k in inputs}
        if count:
            n = sum(patches[image_at:image_at + count])
            piece["image_grid_thw"] = grid[image_at:image_at + count]
            piece["pixel_values"] = inputs["pixel_values"][patch_at:patch_at + n]
            image_at, patch_at = image_at + count, patch_at + n
        pieces.append(piece)
    return pieces


def collate_encodings(pieces: list[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Pieces of ``split_encoding`` as one left-padded batch (what the processor returns for them)."""
    import torch

    width = max(len(p["input_ids"]) for p in pieces)
    out: dict[str, Any] = {}
    for key in _ROW_KEYS:
        if key in pieces[0]:
            rows = [p[key] for p in pieces]
            fill = pad_id if key == "input_ids" else 0
            batch = rows[0].new_full((len(rows), width), fill)
            for b, row in enumerate(rows):
                batch[b, width - len(row):] = row
            out[key] = batch
    for key in _IMAGE_KEYS:
        parts = [p[key] for p in pieces if key in p]
        if parts:
            out[key] = torch.cat(parts)
    return out


@contextlib.contextmanager
def _left_padding(tokenizer):
    """Left padding for a decoder batch (restored after), whatever the tokenizer's default."""
    side = getattr(tokenizer, "padding_side", "left")
    tokenizer.padding_side = "left"
    try:
        yield
    finally:
        tokenizer.padding_side = side
