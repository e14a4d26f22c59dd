"""The trainer learns: on a built-in synthetic task with an easy reward, the mean reward of the
last 5 steps beats the first 5 by at least 0.2 within 60 steps, for grpo, rloo, dapo and gspo.
GSPO makes two updates a step (mini-batches of 2 prompts), so that its sequence ratio and its
3e-4 / 4e-4 clip act on the second one (with one on-policy update a step every ratio is 1).

The task is `data synth --task choice` (a shape's name as a letter, 4 options) scored by the
real `choice` verifier and the strict format check, half each. A short warm-up SFT leaves the
tiny model writing the format about a quarter of the time: RL has something to reinforce.
"""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warm(tiny_model_dir, tmp_path_factory):
    """A warm-up SFT model and the choice data whose reward is half accuracy, half format."""
    import torch

    from mmrl.data.synth import synthesize
    from mmrl.sft import SFTConfig, train as sft

    root = tmp_path_factory.mktemp("learn")
    synthesize(root / "raw.jsonl", task="choice", n=64, seed=0, image_size=56)
    with open(root / "raw.jsonl", encoding="utf-8") as f, open(root / "data.jsonl", "w", encoding="utf-8") as g:
        for line in f:
            record = json.loads(line)
            record["reward"] = {"verifier": "choice", "weights": {"accuracy": 0.5, "format": 0.5}}
            g.write(json.dumps(record) + "\n")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        sft(SFTConfig.from_flags(model=tiny_model_dir, data=str(root / "data.jsonl"), out=str(root / "sft"), max_steps=200,
                      lr=3e-3, batch_size=8))
    finally:
        torch.set_num_threads(threads)
    return root


@pytest.mark.parametrize("algo,extra", [("grpo", {}), ("rloo", {}), ("dapo", {}), ("gspo", {"mini_batch_size": 2})])
def test_mean_reward_rises_by_at_least_0_2(algo, extra, warm):
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import train

    result = train(GRPOConfig.from_flags(model=str(warm / "sft"), data=str(warm / "data.jsonl"), out=str(warm / algo),
                              algo=algo, max_steps=60, batch_size=4, group_size=8, max_new_tokens=40, lr=2e-3,
                              reward_workers=0, sample_steps=100, seed=0, **extra))
    rewards = [row["reward/mean"] for row in result.history]
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5
    assert last - first >= 0.2, f"{algo}: first 5 steps {first:.3f}, last 5 {last:.3f}"
    if extra:  # the off-policy update saw its ratio move and the clip act
        assert max(row["clip_frac"] for row in result.history) > 0.0
