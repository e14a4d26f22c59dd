"""Rollout backends behind one interface, chosen by name: ``hf``, ``vllm``, ``openai``.

Each backend module is imported only when chosen, so vLLM (or the HTTP client) is never a
requirement of the others. A user backend is a ``file.py:factory`` or ``module:factory`` name
whose factory takes ``(model, **options)`` and returns an object with ``generate``,
``update_weights`` and ``close``.
"""
from __future__ import annotations

from typing import Any

from mmrl.registry import Registry
from mmrl.rollout.types import Backend

BACKENDS: Registry = Registry("rollout backend")


@BACKENDS.register("hf")
def _hf(model, **options) -> Backend:
    from mmrl.rollout.backends.hf import HFBackend

    return HFBackend(model, **options)


@BACKENDS.register("vllm")
def _vllm(model, **options) -> Backend:
    from mmrl.rollout.backends.vllm import VLLMBackend

    return VLLMBackend(model, **options)


@BACKENDS.register("openai")
def _openai(model, **options) -> Backend:
    from mmrl.rollout.backends.openai import OpenAIBackend

    return OpenAIBackend(model, **options)


def make_backend(kind: str, model: Any, **options: Any) -> Backend:
    """Create a backend: ``kind`` is hf, vllm, openai or a user factory; ``model`` a ModelSpec,
    LoadedModel (hf: shared with a trainer) or a name or folder (openai: the served model name)."""
    return BACKENDS.get(kind)(model, **options)
