"""Fixtures for the trainer tests: a GRPO config on the tiny model that runs in about a second a step."""
from __future__ import annotations

import pytest


def parity(response, sample, params):
    """A reward a random model earns half the time: 1 when the response has an even length.
    Random responses differ in length, so a group's rewards differ and its advantages are not 0."""
    from mmrl.rewards.base import VerifierResult

    return VerifierResult(float(len(response) % 2 == 0), str(len(response)))


@pytest.fixture(scope="session")
def parity_file(synth_file):
    """The synthetic samples (beside their images) scored by ``parity`` instead of their own verifier."""
    import json
    from pathlib import Path

    from mmrl.rewards.base import VERIFIERS

    VERIFIERS.add("test_parity", parity, replace=True)
    out = Path(synth_file).with_name("parity.jsonl")
    with open(synth_file, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            record = json.loads(line)
            record["reward"] = {"verifier": "test_parity", "weights": {"accuracy": 1.0}}
            g.write(json.dumps(record) + "\n")
    return str(out)


@pytest.fixture
def rl_config(tiny_model_dir, parity_file, tmp_path):
    """A factory of small GRPO configs on the tiny model and the 12-sample synthetic set."""
    from mmrl.rl.config import GRPOConfig

    def make(**overrides):
        base = dict(model=tiny_model_dir, data=parity_file, out=str(tmp_path / "rl"), batch_size=2, group_size=4,
                    max_steps=1, max_new_tokens=8, lr=1e-2, reward_workers=0, sample_steps=1, beta=0.0)
        return GRPOConfig.from_flags(**{**base, **overrides})

    return make
