"""In-process transformers generation with a shared prompt prefix per group of n draws.

Prompts are batched (left padding, KV cache); each prompt and its images are encoded and
prefilled once and its KV cache is gathered out to its n draws (``mmrl.model.prefix``), so the
vision tower and the prompt prefill do not run n times. The decode loop samples every row from
its own seeded stream and drops finished rows from the batch.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.loading import LoadedModel, ModelSpec
from mmrl.rollout.cleaning import make_cleaner
from mmrl.rollout.draws import DrawTracker
from mmrl.rollout.prompts import templated_text
from mmrl.rollout.types import Completion, Prompt, SamplingParams


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-sequence ids: the generation config's (Qwen-VL lists two) and the tokenizer's."""
    ids: list[int] = []
    gen = getattr(model, "generation_config", None)
    eos = getattr(gen, "eos_token_id", None)
    if eos is not None:
        ids += list(eos) if isinstance(eos, (list, tuple)) else [eos]
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.append(tokenizer.eos_token_id)
    return sorted(set(int(i) for i in ids))


def context_length(model: Any) -> int | None:
    cfg = getattr(model, "config", None)
    cfg = getattr(cfg, "text_config", None) or cfg
    value = getattr(cfg, "max_position_embeddings", None)
    return int(value) if value else None


class HFBackend:
    """Generation with a transformers model, in process.

    ``model`` is a loaded model (shared with a trainer), a ModelSpec, or a name or folder.
    ``max_batch_rows`` caps prompts x draws decoded together (memory); prompts of a call are
    processed in chunks of ``max(1, max_batch_rows // n)``.
    """

    name = "hf"

    def __init__(self, model: LoadedModel | ModelSpec | str, max_batch_rows: int = 64, **options: Any):
        if options:
            raise ConfigError(f"the hf backend has no option(s) {', '.join(sorted(options))}")
        if not isinstance(model, LoadedModel):
            from mmrl.model.loading import load

            model = load(model)
        self.loaded = model
        self.processor = model.processor
        self.tokenizer = model.tokenizer
        self.max_batch_rows = max(1, int(max_batch_rows))
        self.eos_ids = eos_token_ids(model.model, self.tokenizer)
        self.cleaner = make_cleaner(self.tokenizer)
        self.context_length = context_length(model.model)
        self._kept: dict[int, tuple[Prompt, dict[str, Any]]] | None = None  # see keep_encodings
        self._features = False

    @property
    def model(self):
        return self.loaded.model

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        per_batch = max(1, self.max_batch_rows // params.n)
        # Similar lengths together: less padding in each batch; results go back in input order.
        order = sorted(range(len(prompts)), key=lambda i: self._length(prompts[i]), reverse=True)
        results: list[list[Completion] | None] = [None] * len(prompts)
        for start in range(0, len(order), per_batch):
            idx = order[start:start + per_batch]
            for i, comps in zip(idx, self._generate_batch([prompts[i] for i in idx], params)):
                results[i] = comps
        return results  # type: ignore[return-value]

    def _length(self, prompt: Prompt) -> int:
        return len(self._text(prompt)) + 4 * prompt.image_tokens

    def _text(self, prompt: Prompt) -> str:
        return templated_text(prompt, self.processor)

    def keep_encodings(self, keep: bool = True, vision_features: bool = False) -> None:
        """Start (again) or stop keeping each prompt's processor output.

        While kept, a prompt's image is processed once: the rollout encodes it, and later batches
        of kept prompts (a trainer's log-prob passes, in other groupings) are collated from the
        kept pieces, equal to what the processor returns. A trainer calls this once per step.

        With ``vision_features`` and a vision tower (projector included) that trains no weight,
        each prompt's image features are computed once too, and every pass gets them in place
        of pixels (transformers' ``mm_encoder_outputs``): the tower runs once per prompt per step."""
        self._kept = {} if keep else None
        self._features = bool(keep and vision_features and frozen_vision(self.model))

    def encode(self, prompts: list[Prompt]) -> Mapping[str, Any]:
        """Processor inputs of a prompt batch: left-padded ids, mask, pixel values, grids."""
        kept = self._kept
        if kept is not None and prompts and all(kept.get(id(p), (None,))[0] is p for p in prompts):
            inputs = collate_encodings([kept[id(p)][1] for p in prompts], self.tokenizer.pad_token_id or 0)
        else:
            images = [im for p in prompts for im in p.images]
            with _left_padding(self.tokenizer):
                inputs = self.processor(text=[self._text(p) for p in prompts], images=images or None,
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

    def _with_features(self, prompts: list[Prompt], inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` with each image's (kept, or computed now and kept) features instead of pixels."""
        import torch
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        pieces = [self._kept[id(p)][1] for p in prompts]
        missing = [piece for piece in pieces if "pixel_values" in piece and "image_features" not in piece]
        if missing:
            device = self.loaded.device
            with torch.no_grad():
                out = _unwrap(self.model).model.get_image_features(
                    torch.cat([m["pixel_values"] for m in missing]).to(device),
                    torch.cat([m["image_grid_thw"] for m in missing]).to(device), return_dict=True)
            features = list(out.pooler_output)
            for m in missing:
                count = len(m["image_grid_thw"])
                m["image_features"], features = features[:count], features[count:]
        image = [f for piece in pieces for f in piece.get("image_features", [])]
        rest = {k: v for k, v in inputs.items() if k != "pixel_values"}
        return {**rest, "mm_encoder_outputs": {"image": BaseModelOutputWithPooling(pooler_output=image)}}

    def _generate_batch(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        import torch

        from mmrl.model.prefix import decode_shared

        tracker = DrawTracker([p.id for p in prompts], params, self.tokenizer, self.eos_ids)
        inputs = self.encode(prompts)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                decode_shared(self.model, inputs, params.n, tracker.step, tracker.max_steps)
        finally:
            self.model.train(was_training)
        flat = tracker.completions(self.cleaner)
        return [flat[b * params.n:(b + 1) * params.n] for b in range(len(prompts))]

    def update_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Copy new weights into the model in place (names as in ``model.state_dict()``)."""
        import torch

        items = weights.items() if isinstance(weights, Mapping) else weights
        state = self.model.state_dict()
        unknown = []
        with torch.no_grad():
            for name, value in items:
                target = state.get(name)
                if target is None:
                    unknown.append(name)
                    continue
                if target.data_ptr() != value.data_ptr():
                    target.copy_(value.to(target.device, target.dtype))
        if unknown:
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise ConfigError(f"update_weights: {len(unknown)} name(s) not in the model: {shown}")

    def close(self) -> None:
        self.loaded = None  # type: ignore[assignment]


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
