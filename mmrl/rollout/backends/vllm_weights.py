"""Trainer weights into a vLLM engine: names, chunks, and a form that crosses vLLM's process boundary.

vLLM's engine core runs in another process by default. ``collective_rpc`` sends a utility call
there through vLLM's msgpack wire format (``vllm/v1/serial_utils.py``): ``MsgpackEncoder`` turns a
tensor into ``(dtype, shape, buffer)``, but the engine core decodes utility calls *untyped*, so a
tensor argument arrives as a list such as ``['float32', [64, 32], 1]`` (the 1 an index into
buffers the worker never sees) and ``load_weights`` fails. Tuples arrive as lists too. Plain
``bytes`` are native msgpack and arrive intact, so across processes each tensor travels as
``[name, dtype, shape, raw bytes]`` and the worker rebuilds it (``unpack_weight``). In this
process (``VLLM_ENABLE_V1_MULTIPROCESSING=0`` or the external launcher) nothing is serialised and
the tensors themselves go, without a copy.

TRL and verl do not send tensors as RPC arguments: they load in process through the driver
worker, or broadcast over NCCL / hand over CUDA IPC handles. The bytes path costs a CPU copy of
each chunk; it is what works with every vLLM build, the CPU one included.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from mmrl.errors import ConfigError

# transformers >= 4.52 nests the language model and the vision tower under ``model.``; vLLM's
# loaders read the classic checkpoint layout, which every vLLM version understands.
NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("base_model.model.", ""),  # peft wrapper
    ("model.language_model.", "model."),
    ("model.visual.", "visual."),
)
WEIGHT_CHUNK_BYTES = 1 << 30  # bytes per collective_rpc: bounds the CPU copy sent to another process
STAGE_METHOD = "mmrl_stage_weights"  # tensors, engine in this process
STAGE_PACKED_METHOD = "mmrl_stage_packed_weights"  # packed tensors, engine in another process
COMMIT_METHOD = "mmrl_commit_weights"  # load what was staged


def pack_weight(name: str, tensor: Any) -> list[Any]:
    """``[name, dtype, shape, bytes]``: a tensor in native msgpack types (CPU copy, any dtype)."""
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return [name, str(tensor.dtype).removeprefix("torch."), list(tensor.shape), flat.view(_uint8()).numpy().tobytes()]


def unpack_weight(packed: Sequence[Any]) -> tuple[str, Any]:
    """The ``(name, tensor)`` that ``pack_weight`` packed, from what msgpack's untyped decode gives
    back (lists for tuples; ``bytes`` or a ``memoryview`` for the data)."""
    import torch

    name, dtype_name, shape, data = packed
    dtype = getattr(torch, str(dtype_name), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"{name}: unknown tensor dtype {dtype_name!r}")
    shape = [int(s) for s in shape]
    if not data:
        return name, torch.empty(shape, dtype=dtype)
    raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)  # a writable copy, owned by the tensor
    return name, raw.view(dtype).reshape(shape)


def _uint8():
    import torch

    return torch.uint8


class WeightLoader:
    """vLLM ``worker_extension_cls``: mixed into every worker class, in whichever process it runs.

    A push is staged chunk by chunk (``collective_rpc(STAGE_METHOD | STAGE_PACKED_METHOD,
    args=(chunk,))``) and loaded at once by ``collective_rpc(COMMIT_METHOD)``: through the model
    runner's ``reload_weights`` where vLLM has it (it restores the layers' checkpoint layout,
    loads, and processes them again: vLLM's CPU build repacks every linear weight for oneDNN and
    frees the original, so a plain ``load_weights`` after start-up finds empty parameters), else
    the model's ``load_weights`` (as TRL does). One load for the whole push, so that no layer is
    processed with half of its weights. Staged tensors of another process are CPU copies held
    until the commit."""

    def mmrl_stage_weights(self, weights: list[tuple[str, Any]]) -> int:
        staged = self.__dict__.setdefault("_mmrl_staged", [])
        staged.extend(weights)
        return len(weights)

    def mmrl_stage_packed_weights(self, packed: list[Sequence[Any]]) -> int:
        return self.mmrl_stage_weights([unpack_weight(item) for item in packed])

    def mmrl_commit_weights(self) -> int:
        weights, self._mmrl_staged = self.__dict__.get("_mmrl_staged", []), []
        runner = self.model_runner  # type: ignore[attr-defined]
        if callable(getattr(runner, "reload_weights", None)):
            runner.reload_weights(weights_iterator=iter(weights), is_checkpoint_format=True)
        else:
            runner.model.load_weights(weights=weights)
        return len(weights)


WORKER_EXTENSION = f"{WeightLoader.__module__}.{WeightLoader.__qualname__}"


def vllm_weight_name(name: str) -> str:
    """The checkpoint-layout name vLLM loads a trainer parameter under."""
    if "lora_" in name:
        raise ConfigError(f"{name}: merge LoRA adapters into the base weights before pushing them to vLLM")
    for old, new in NAME_PREFIXES:
        if name.startswith(old):
            name = new + name[len(old):]
    return name.replace(".base_layer.", ".")


def vllm_weights(weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(name, tensor) pairs renamed for vLLM's ``load_weights``."""
    items = weights.items() if isinstance(weights, Mapping) else weights
    for name, tensor in items:
        yield vllm_weight_name(name), tensor


def weight_chunks(items: Iterable[tuple[str, Any]], max_bytes: int, packed: bool) -> Iterator[list[Any]]:
    """Lists of about ``max_bytes`` each: ``pack_weight`` records when the engine is in another
    process, the (name, tensor) pairs themselves when it shares this one."""
    chunk: list[Any] = []
    size = 0
    for name, tensor in items:
        chunk.append(pack_weight(name, tensor) if packed else (name, tensor.detach()))
        size += tensor.numel() * tensor.element_size()
        if size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
