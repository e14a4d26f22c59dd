"""A generation engine colocated with training: fed the new weights before the rollout that needs them.

On a GPU the trainer can draw its groups with vLLM instead of the hf backend. Both then live on
the same devices, so the engine sleeps between rollouts and, before the next rollout, receives the
weights of every update made since the last one. ``ColocatedRollout`` is the weight half of that
cycle around any backend; the sleeping and waking belong to the backend alone (the vllm backend
sleeps after each ``generate`` and wakes what each call needs), so that one object knows what
state the engine is in. It calls only the backend's public methods (``generate``,
``update_weights``, ``close``) and reads ``needs_weights`` where the backend has it (a vLLM
engine asleep at level 2 holds no weights).

* ``backend.update_weights`` takes ``(name, tensor)`` pairs named as in the Hugging Face model's
  ``state_dict`` (the vllm backend maps the names to vLLM's), all of them in one call, lazily:
  the backend sends them in chunks and has the engine load them at once;
* the weights are pushed before the first rollout too: the engine loaded the model from disk,
  and the trainer may already hold other weights (``--resume``, a LoRA merge);
* under ZeRO-3 the caller gathers the weights (``engine.full_weights()``) around ``generate``,
  so ``named_weights`` sees whole tensors.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

Weights = Callable[[], Iterable[tuple[str, Any]]]


def named_weights(model: Any) -> Iterator[tuple[str, Any]]:
    """The model's weights named as in its Hugging Face ``state_dict``; LoRA adapters merged in
    for the duration (PEFT's ``merge_adapter``/``unmerge_adapter``), their own tensors left out.
    Merged tensors are copies, so that a consumer holding some until the end still has the merged
    values after the adapters are taken out again."""
    merge = getattr(model, "merge_adapter", None)
    if callable(merge):
        merge()
    try:
        for name, tensor in model.state_dict().items():
            if "lora_" in name or "modules_to_save" in name:
                continue
            name = name.removeprefix("base_model.model.").replace(".base_layer.", ".")
            yield name, tensor.detach().clone() if callable(merge) else tensor.detach()
    finally:
        if callable(merge):
            model.unmerge_adapter()


class ColocatedRollout:
    """Generation through ``backend`` with the policy's weights pushed whenever the engine's are stale.

    ``weights`` returns the current ``(name, tensor)`` pairs of the policy; ``mark_updated()``
    (after each optimizer update) makes the next ``generate`` push them first. The engine starts
    stale: the first ``generate`` pushes too.
    """

    name = "colocated"

    def __init__(self, backend: Any, weights: Weights):
        self.backend, self.weights = backend, weights
        self.stale = True
        self.pushes = 0

    def mark_updated(self) -> None:
        """The policy changed: push its weights before the next rollout."""
        self.stale = True

    def push(self) -> None:
        """Send the policy's weights to the engine (one update, fed lazily)."""
        self.backend.update_weights(self.weights())
        self.stale = False
        self.pushes += 1

    def generate(self, prompts: list, params: Any) -> list:
        if self.stale or getattr(self.backend, "needs_weights", False):
            self.push()
        return self.backend.generate(prompts, params)

    def update_weights(self, weights: Iterable[tuple[str, Any]]) -> None:
        self.backend.update_weights(weights)

    def close(self) -> None:
        self.backend.close()
