"""Fixtures of the adversarial tables: a tiny model, a few samples, and plugin files the command
line (never the data) may name."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fixtures(tiny_model_dir, synth_file, tmp_path_factory) -> dict:
    """What the table rows build their arguments from."""
    root = tmp_path_factory.mktemp("adversarial")
    plugins = root / "plugins.py"
    plugins.write_text(
        "from mmrl.rewards.base import VerifierResult\n"
        "import torch\n"
        "def huge(response, sample, params):\n"
        "    return VerifierResult(1.0, 'x', {'bonus': 1e308})\n"
        "def overfull(response, sample, params):\n"
        "    return VerifierResult(2.0, 'x')\n"
        "def broken(response, sample, params):\n"
        "    raise RuntimeError('this verifier always fails')\n"
        "def wrong_shape(rewards, group_ids, **kwargs):\n"
        "    return torch.zeros(rewards.shape[0] + 3)\n",
        encoding="utf-8")
    samples = [json.loads(line) for line in Path(synth_file).read_text(encoding="utf-8").splitlines()]
    data = root / "data.jsonl"
    images = Path(synth_file).parent
    rows = []
    for s in samples[:4]:
        s = dict(s)
        s["images"] = [str(images / p) for p in s.get("images", [])]
        rows.append(s)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    no_answer = root / "no_answer.jsonl"
    no_answer.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "answer"}) + "\n" for r in rows),
                         encoding="utf-8")
    return {"model": tiny_model_dir, "data": str(data), "no_answer": str(no_answer), "plugins": str(plugins),
            "root": root}
