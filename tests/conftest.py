"""Shared fixtures: a tiny offline model and a small synthetic data set, built once per session."""
from __future__ import annotations

import os

# Tests never reach a model hub: everything they load is built here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run as fast on one thread, and a shared CPU cannot stall a single thread's kernels
    (on a shared 2-core machine two threads stalled tiny-model steps up to 80x)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """An xs tiny Qwen2.5-VL checkpoint (random weights, local tokenizer)."""
    from mmrl.model.tiny import init_tiny

    path = tmp_path_factory.mktemp("tiny-xs")
    init_tiny(path, size="xs", seed=0)
    return str(path)


@pytest.fixture(scope="session")
def synth_file(tmp_path_factory) -> str:
    """A mixed synthetic data set of 12 samples (two of each task), images beside it."""
    from mmrl.data.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "data.jsonl"
    synthesize(out, task="mix", n=12, seed=0, image_size=56)
    return str(out)


@pytest.fixture
def cli():
    """Invoke the mmrl CLI in-process; returns typer's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from mmrl_cli.main import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return run
