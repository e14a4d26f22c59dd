"""Fixtures of the rollout tests: a tiny model whose greedy outputs vary, loaded once."""
from __future__ import annotations

import pytest


def lively_tiny(path, size: str) -> str:
    """A tiny model at ``path`` with larger random weights than init_tiny's, so that greedy
    decoding gives varied tokens (the default init repeats one token) and comparisons mean something."""
    import torch

    from mmrl.model.loading import load
    from mmrl.model.tiny import init_tiny

    init_tiny(path, size=size, seed=0)
    loaded = load(str(path))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in loaded.model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    loaded.model.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def lively_model_dir(tmp_path_factory) -> str:
    """An xs tiny Qwen2.5-VL whose greedy outputs vary (``lively_tiny``)."""
    return lively_tiny(tmp_path_factory.mktemp("tiny-lively"), "xs")


@pytest.fixture(scope="session")
def loaded(lively_model_dir):
    from mmrl.model.loading import load

    lm = load(lively_model_dir)
    lm.model.eval()
    return lm


@pytest.fixture(scope="session")
def hf_backend(loaded):
    from mmrl.rollout import make_backend

    return make_backend("hf", loaded)


@pytest.fixture(scope="session")
def samples(synth_file):
    from mmrl.io.jsonl import iter_located

    return list(iter_located(synth_file))


@pytest.fixture(scope="session")
def prompts(samples, hf_backend):
    from mmrl.rollout import PromptBuilder, PromptConfig

    builder = PromptBuilder(PromptConfig(), processor=hf_backend.processor)
    return [builder.build(item) for item in samples]
