"""A generation engine colocated with training: awake only for rollouts, fed the new weights after updates.

On a GPU the trainer can draw its groups with vLLM instead of the hf backend. Both then live on
the same devices, so the engine sleeps between rollouts (vLLM's sleep mode frees its KV cache,
and at level 2 its weights too) and, before the next rollout, wakes and receives the weights of
every update made since the last one. ``ColocatedRollout`` is that cycle around any backend; it
calls only the backend's public methods (``generate``, ``update_weights``, ``close``) plus,
when the backend holds a vLLM engine as ``backend.llm`` with ``sleep``/``wake_up`` (vLLM's
``enable_sleep_mode=True``), the sleep and wake calls.

Assumptions (this module has been run with fakes only, never on a GPU with vLLM):

* ``backend.update_weights`` takes ``(name, tensor)`` pairs named as in the Hugging Face model's
  ``state_dict`` (the vllm backend maps the names to vLLM's) and may be called several times
  with parts of the weights (the pairs go in buckets of ``bucket_mb`` to bound the extra memory);
* ``llm.sleep(level=...)`` and ``llm.wake_up(tags=[...])`` behave as in vLLM 0.8+: after
  ``sleep(level=2)`` the weights must be loaded again before generating, which the push does;
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
    """Generation through ``backend`` with sleep/wake around each rollout and weights pushed when stale.

    ``weights`` returns the current ``(name, tensor)`` pairs of the policy; ``mark_updated()``
    (after each optimizer update) makes the next ``generate`` push them first.
    """

    name = "colocated"

    def __init__(self, backend: Any, weights: Weights, sleep_level: int = 1, bucket_mb: float = 512.0):
        if sleep_level not in (0, 1, 2):
            raise ValueError(f"sleep_level must be 0 (never sleep), 1 or 2, got {sleep_level}")
        self.backend, self.weights = backend, weights
        self.sleep_level, self.bucket_bytes = sleep_level, int(bucket_mb * 2**20)
        self.stale = False
        self.pushes = 0
        self.asleep = False
        if self._can_sleep():
            self._sleep()

    @property
    def llm(self) -> Any:
        return getattr(self.backend, "llm", None)

    def _can_sleep(self) -> bool:
        llm = self.llm
        return self.sleep_level > 0 and callable(getattr(llm, "sleep", None)) and callable(getattr(llm, "wake_up", None))

    def _sleep(self) -> None:
        self.llm.sleep(level=self.sleep_level)
        self.asleep = True

    def mark_updated(self) -> None:
        """The policy changed: push its weights before the next rollout."""
        self.stale = True

    def push(self) -> None:
        """Send the policy's weights to the engine in buckets of at most ``bucket_mb``."""
        bucket, size = [], 0
        for name, tensor in self.weights():
            bucket.append((name, tensor))
            size += tensor.numel() * tensor.element_size()
            if size >= self.bucket_bytes:
                self.backend.update_weights(bucket)
                bucket, size = [], 0
        if bucket:
            self.backend.update_weights(bucket)
        self.stale = False
        self.pushes += 1

    def generate(self, prompts: list, params: Any) -> list:
        if self.asleep:
            # weights first (their memory back, then the new values), the KV cache only to generate
            self.llm.wake_up(tags=["weights"])
            if self.sleep_level == 2:
                self.stale = True  # level 2 dropped the weights: they must come again
        if self.stale:
            self.push()
        if self.asleep:
            self.llm.wake_up(tags=["kv_cache"])
            self.asleep = False
        try:
            return self.backend.generate(prompts, params)
        finally:
            if self._can_sleep():
                self._sleep()

    def update_weights(self, weights: Iterable[tuple[str, Any]]) -> None:
        self.backend.update_weights(weights)

    def close(self) -> None:
        self.backend.close()
