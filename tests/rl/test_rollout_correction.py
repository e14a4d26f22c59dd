"""The rollout correction (--rollout-is): per-token importance weights pi_trainer / pi_rollout,
truncated (TIS) or masked (MIS), on the policy loss; its default per backend; and, end to end,
a gap of ~0 where the trained model samples itself."""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.rl.config import GRPOConfig
from mmrl.rl.losses import policy_loss
from mmrl.rl.rollout_correction import rollout_is_weights

LOG4 = math.log(4.0)
# trainer log-probs; the engine's: equal on token 0, 4x less likely on token 1 (rho 4), 4x more
# likely on token 2 (rho 1/4); token 3 is padding, whatever its values
OLD = torch.tensor([[-1.0, -1.0, -1.0, 0.0]])
ENGINE = torch.tensor([[-1.0, -1.0 - LOG4, -1.0 + LOG4, -50.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0, 0.0]])


def cfg(**kw):
    return GRPOConfig.from_flags(model="m", data="d", out="o", **kw)


def test_truncate_caps_each_weight_at_the_cap_and_keeps_the_small_ones():
    w, stats = rollout_is_weights(OLD, ENGINE, MASK, "truncate", cap=2.0)
    torch.testing.assert_close(w, torch.tensor([[1.0, 2.0, 0.25, 1.0]]))
    assert stats["rollout_is/mean"] == pytest.approx((1 + 2 + 0.25) / 3)
    assert stats["rollout_is/clipped_frac"] == pytest.approx(1 / 3)
    assert stats["rollout_is/logprob_gap"] == pytest.approx(2 * LOG4 / 3)


def test_mask_zeroes_the_weights_outside_the_reciprocal_band():
    w, stats = rollout_is_weights(OLD, ENGINE, MASK, "mask", cap=2.0)
    torch.testing.assert_close(w, torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    assert stats["rollout_is/mean"] == pytest.approx(1 / 3)
    assert stats["rollout_is/clipped_frac"] == pytest.approx(2 / 3)


def test_within_the_cap_the_weight_is_the_ratio():
    w, _ = rollout_is_weights(OLD, OLD - 0.5, MASK, "mask", cap=2.0)
    torch.testing.assert_close(w[:, :3], torch.full((1, 3), math.exp(0.5)))


def test_the_weight_scales_the_surrogate_and_not_the_kl():
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    ref, mask, adv = torch.tensor([[-1.5, -1.0]]), torch.ones(1, 2), torch.tensor([1.0])
    kw = dict(clip_low=0.2, clip_high=0.2, ref_logp=ref, beta=0.1)
    _, plain = policy_loss(logp, logp.detach(), adv, mask, **kw)
    _, weighted = policy_loss(logp, logp.detach(), adv, mask, is_weight=torch.full((1, 2), 2.0), **kw)
    assert weighted["pg_loss"] == pytest.approx(2 * plain["pg_loss"]) and weighted["kl"] == plain["kl"]
    assert weighted["loss"] == pytest.approx(2 * plain["pg_loss"] + 0.1 * plain["kl"], rel=1e-5)


def test_vllm_corrects_by_default_and_hf_does_not():
    assert cfg(rollout_backend="vllm", max_prompt_length=64).rollout_correction == "truncate"
    assert cfg().rollout_correction == "none"
    assert cfg(rollout_is="mask").rollout_correction == "mask"
    assert cfg(rollout_is="mask").sampling_at(0).logprobs and not cfg().sampling_at(0).logprobs


@pytest.mark.parametrize("kw, flag", [({"rollout_is": "clip"}, "--rollout-is"), ({"rollout_is_cap": 1.0},
                                                                                  "--rollout-is-cap")])
def test_bad_correction_settings_name_their_flag(kw, flag):
    with pytest.raises(ConfigError, match=flag):
        cfg(**kw)


# --- through the update, on the tiny model --------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from mmrl.model.loading import load
    from mmrl.rollout.backends.hf import HFBackend

    loaded = load(tiny_model_dir)
    return loaded, HFBackend(loaded)


def _batch(tiny, synth_file):
    from mmrl.io.jsonl import iter_located
    from mmrl.rl.groups import Group, build_batch
    from mmrl.rollout.prompts import PromptBuilder
    from mmrl.rollout.types import SamplingParams

    loaded, backend = tiny
    items = list(iter_located(synth_file))[:2]
    prompts = [PromptBuilder(processor=loaded.processor).build(i) for i in items]
    comps = backend.generate(prompts, SamplingParams(n=3, max_new_tokens=6, seed=0, logprobs=True))
    batch = build_batch([Group(i, p, c) for i, (p, c) in enumerate(zip(prompts, comps))], [0.0] * 6)
    batch.advantages = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    return batch


def _update(tiny, batch, **flags):
    import copy

    from mmrl.rl.update import ppo_update
    from mmrl.train.distributed import LocalEngine, OptimSpec

    loaded, backend = tiny
    c = cfg(batch_size=2, group_size=3, beta=0.0, **flags)
    engine = LocalEngine(copy.deepcopy(loaded.model), OptimSpec(lr=1e-12, max_grad_norm=0.0))
    return ppo_update(engine, backend.encode, batch, c, 0, seed=0, max_len=6).means()


def test_the_hf_engines_log_probs_are_the_trainers(tiny, synth_file):
    batch = _batch(tiny, synth_file)
    stats = _update(tiny, batch, rollout_is="truncate")
    assert stats["rollout_is/logprob_gap"] < 1e-4 and stats["rollout_is/clipped_frac"] == 0.0
    assert stats["rollout_is/mean"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("mode, weight", [("truncate", 2.0), ("mask", 0.0)])
def test_a_planted_mismatch_is_truncated_or_masked(tiny, synth_file, mode, weight):
    """The engine reports every token 4x less likely than the trainer does: truncation weighs each
    token's loss 2 (the cap), masking 0; without the correction the loss is the plain one."""
    batch = _batch(tiny, synth_file)
    batch.advantages = torch.tensor([1.0, 0.5, 2.0, -1.0, 0.3, 0.7])
    plain = _update(tiny, batch, rollout_is="none")
    batch.rollout_logp = batch.rollout_logp - LOG4
    got = _update(tiny, batch, rollout_is=mode, rollout_is_cap=2.0)
    assert got["rollout_is/clipped_frac"] == 1.0 and got["rollout_is/mean"] == pytest.approx(weight)
    assert got["rollout_is/logprob_gap"] == pytest.approx(LOG4, abs=1e-3)
    assert got["pg_loss"] == pytest.approx(weight * plain["pg_loss"], abs=1e-6) and abs(plain["pg_loss"]) > 1e-3


def test_a_correction_without_the_engines_log_probs_is_refused(tiny, synth_file):
    batch = _batch(tiny, synth_file)
    batch.rollout_logp = None
    with pytest.raises(RuntimeError, match="log-probs"):
        _update(tiny, batch, rollout_is="truncate")
