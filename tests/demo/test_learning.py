"""The demo's GRPO moves the policy the right way: after one step with the demo's settings, the
responses its verifier rewarded above their group's mean are more likely and the others less.

Whole demo runs take minutes and are measured by ``benchmarks/demo_seeds.py``; this is the fast
check that the learning machinery they rely on (rewards -> group advantages -> policy-gradient
update, with the demo's filter, loss and optimiser settings) points uphill. A flipped advantage
sign makes the change below negative, advantages of 0 or an update that never runs make it 0.
"""
from __future__ import annotations

import json
from dataclasses import replace

import pytest


def parity(response, sample, params):
    """A reward a random model earns about half the time (an even number of characters), so that
    its groups have unequal rewards and GRPO has something to learn from."""
    from mmrl.rewards.base import VerifierResult

    return VerifierResult(float(len(response) % 2 == 0), str(len(response)))


@pytest.fixture
def parity_colour(tmp_path):
    """Colour samples (beside their images) scored by ``parity``."""
    from mmrl.data.synth import synthesize
    from mmrl.rewards.base import VERIFIERS

    VERIFIERS.add("test_demo_parity", parity, replace=True)
    raw = tmp_path / "raw.jsonl"
    synthesize(raw, task="colour", n=4, seed=0, image_size=56)
    out = tmp_path / "parity.jsonl"
    with open(raw, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            g.write(json.dumps({**json.loads(line), "reward": {"verifier": "test_demo_parity",
                                                               "weights": {"accuracy": 1.0}}}) + "\n")
    return out


def sequence_logprobs(model, backend, batch, temperature: float, pad_id: int):
    import torch

    from mmrl.rl.update import group_logprobs

    with torch.no_grad():
        rows, (logp, _) = group_logprobs(model.eval(), backend.encode, batch, list(range(len(batch.groups))),
                                       temperature, pad_id)
    return (logp * batch.loss_mask[rows]).sum(1)


def test_one_demo_grpo_step_makes_the_better_responses_more_likely(tiny_model_dir, parity_colour, tmp_path):
    from mmrl.demo import quick
    from mmrl.demo.pipeline import grpo_config
    from mmrl.model.loading import ModelSpec, load
    from mmrl.rl.trainer import train
    from mmrl.rollout.backends.hf import HFBackend

    cfg = replace(quick(str(tmp_path / "demo")), rl_steps=1, batch_size=2, group_size=4)
    gcfg = grpo_config(cfg, tiny_model_dir, parity_colour, tmp_path / "rl")
    steps = []
    result = train(gcfg, on_step=steps.append)
    batch = steps[0].batch
    assert batch is not None and steps[0].metrics["updates"] == 1, "the step made no update"
    assert float(batch.rewards.std()) > 0, "every reward equal: nothing to learn from"

    loaded = load(ModelSpec(tiny_model_dir))
    backend = HFBackend(loaded)
    pad = loaded.tokenizer.pad_token_id
    before = sequence_logprobs(loaded.model, backend, batch, cfg.temperature, pad)
    after = sequence_logprobs(result.model, backend, batch, cfg.temperature, pad)
    # the verifier's verdicts, centred in each group: independent of the advantage code under test
    centred = batch.rewards.clone()
    for g in batch.group_ids.unique():
        rows = batch.group_ids == g
        centred[rows] -= batch.rewards[rows].mean()
    uphill = float((centred * (after - before)).sum())
    assert uphill > 1e-3, f"sum of (reward - group mean) x change in log-prob is {uphill:.2e}"
