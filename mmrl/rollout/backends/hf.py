"""In-process transformers generation with a shared prompt prefix per group of n draws.

Prompts are batched (left padding, KV cache); each prompt and its images are encoded and
prefilled once and its KV cache is gathered out to its n draws (``mmrl.model.prefix``), so the
vision tower and the prompt prefill do not run n times. The decode loop samples every row from
its own seeded stream and drops finished rows from the batch.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.encoding import PromptEncoder, context_length
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


class HFBackend:
    """Generation with a transformers model, in process.

    ``model`` is a loaded model (shared with a trainer), a ModelSpec, or a name or folder.
    ``max_batch_rows`` caps prompts x draws decoded together (memory); prompts of a call are
    processed in chunks of ``max(1, max_batch_rows // n)``.
    """

    name = "hf"

    def __init__(self, model: LoadedModel | ModelSpec | str, max_batch_rows: int = 64,
                 encoder: PromptEncoder | None = None, **options: Any):
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
        # the trainer hands its own encoder, so rollout and the log-prob passes share what is kept
        self.encoder = encoder or PromptEncoder(model, lambda prompt: templated_text(prompt, self.processor))

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

    def encode(self, prompts: list[Prompt]) -> Mapping[str, Any]:
        """Processor inputs of a prompt batch (``PromptEncoder.encode``)."""
        return self.encoder.encode(prompts)

    def keep_encodings(self, keep: bool = True, vision_features: bool = False) -> None:
        self.encoder.keep_encodings(keep, vision_features)

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
