"""Fixtures of the warm-up SFT tests: a config factory for tiny runs and hand-written SFT files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def sft_cfg(tiny_model_dir, synth_file, tmp_path):
    """``sft_cfg(**overrides)``: an SFTConfig for a short tiny-model run writing under tmp_path."""
    from mmrl.sft import SFTConfig

    def make(**overrides):
        base = dict(model=tiny_model_dir, data=synth_file, out=str(tmp_path / "run"), max_steps=3,
                    batch_size=2, lr=3e-3, scheduler="constant", lora_dropout=0.0)
        base.update(overrides)
        return SFTConfig.from_flags(**base)

    return make


@pytest.fixture
def write_jsonl(tmp_path, synth_file):
    """``write_jsonl(records, name)``: a JSONL file beside the synthetic images (so paths resolve)."""
    folder = Path(synth_file).parent

    def write(records, name="sft.jsonl") -> str:
        path = folder / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture(scope="session")
def synth_records(synth_file):
    from mmrl.io.jsonl import read_jsonl

    return read_jsonl(synth_file)


@pytest.fixture(scope="session")
def processor(tiny_model_dir):
    from mmrl.model.processor import load_processor

    return load_processor(tiny_model_dir)
