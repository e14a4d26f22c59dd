"""The parts of a step in isolation: one log-prob definition, forced tokens without loss, DAPO's
overlong handling, the LoRA reference, and dynamic sampling's refill (with fake stages)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from mmrl.rl.collect import Collector
from mmrl.rl.groups import Group, build_batch, overlong_penalty
from mmrl.rl.losses import policy_loss
from mmrl.rl.prompt_sampling import GROUP_FILTERS, OversampleEMA, UniformSampler
from mmrl.rollout.types import Completion, Prompt, SamplingParams


def comp(ids, reason="stop", mask=None):
    return Completion(text="x", token_ids=list(ids), finish_reason=reason, num_tokens=len(ids), loss_mask=mask)


def group(index, completions, totals):
    g = Group(index, Prompt(f"p{index}", [], [], {"id": f"p{index}"}), completions)
    g.records = [{"id": f"p{index}", "response": "x", "num_tokens": 1,
                  "rewards": {"total": t, "accuracy": t}} for t in totals]
    return g


# --- forced answering and overlong responses ------------------------------------------------------

def test_forced_tokens_carry_no_loss_mask():
    batch = build_batch([group(0, [comp([1, 2, 3, 4], "forced", mask=[1, 0, 0, 1]), comp([5])], [1.0, 0.0])],
                        [1.0, 0.0])
    assert batch.loss_mask.tolist() == [[1, 0, 0, 1], [1, 0, 0, 0]]


def test_forced_tokens_get_no_policy_gradient():
    logp = torch.tensor([[-1.0, -2.0, -0.5]], requires_grad=True)
    mask = torch.tensor([[1.0, 0.0, 1.0]])  # the middle token was inserted, not sampled
    loss, _ = policy_loss(logp, logp.detach(), torch.tensor([1.0]), mask, clip_low=0.2, clip_high=0.2)
    loss.backward()
    assert logp.grad[0, 1] == 0 and logp.grad[0, 0] != 0 and logp.grad[0, 2] != 0


def test_the_overlong_filter_drops_the_loss_of_truncated_responses():
    batch = build_batch([group(0, [comp([1, 2], "length"), comp([3], "stop")], [0.0, 1.0])], [0.0, 1.0],
                        overlong_filter=True)
    assert batch.loss_mask.tolist() == [[0, 0], [1, 0]]


@pytest.mark.parametrize("tokens, penalty", [(80, 0.0), (90, -0.5), (100, -1.0), (120, -1.0)])
def test_soft_overlong_penalty_falls_linearly_over_the_buffer(tokens, penalty):
    # max 100 tokens, buffer 20%: no penalty up to 80 tokens, -1 at 100 (DAPO eq. 13)
    assert overlong_penalty(tokens, 100, 0.2, 1.0) == pytest.approx(penalty)


def test_no_buffer_no_penalty():
    assert overlong_penalty(500, 100, 0.0, 1.0) == 0.0


# --- dynamic sampling -----------------------------------------------------------------------------

class FakeStages:
    """A backend and scorer pair: prompt i's draws all score ``totals[i]`` unless listed in ``mixed``."""

    def __init__(self, mixed):
        self.mixed = set(mixed)
        self.processor = None

    def generate(self, prompts, params):
        return [[comp([1]) for _ in range(params.n)] for _ in prompts]

    def score(self, records, progress=None):
        out = []
        for r in records:
            i = int(r["id"][1:])
            total = float(r["sample"] % 2) if i in self.mixed else 1.0
            out.append({**r, "rewards": {"total": total, "accuracy": total}})
        return out


class FakeBuilder:
    def build(self, item):
        return Prompt(item.record["id"], [], [], item.record)


def collector(mixed, keep="nonconstant", oversample=None, refill=4, n_items=8):
    items = [SimpleNamespace(record={"id": f"p{i}"}) for i in range(n_items)]
    stages = FakeStages(mixed)
    return Collector(items, FakeBuilder(), stages, stages, UniformSampler(n_items, 0), GROUP_FILTERS.get(keep),
                     oversample, refill, "fake")


def test_dynamic_sampling_drops_constant_groups_and_refills_the_batch():
    c = collector(mixed={0, 1, 2, 3, 4, 5})
    got = c.collect(3, SamplingParams(n=2, seed=0), progress=0.0)
    assert len(got.groups) == 3 and all(len(set(g.rewards)) > 1 for g in got.groups)
    assert got.drawn >= 3 and got.valid == sum(1 for g in got.all_groups if len(set(g.rewards)) > 1)


def test_refill_stops_after_its_rounds_with_a_short_batch():
    got = collector(mixed=set(), refill=2).collect(3, SamplingParams(n=2, seed=0), progress=0.0)
    assert got.groups == [] and got.rounds == 3 and got.valid_frac == 0.0


def test_without_a_filter_every_group_is_kept_in_one_round():
    got = collector(mixed=set(), keep="none").collect(3, SamplingParams(n=2, seed=0), progress=0.0)
    assert len(got.groups) == 3 and got.rounds == 1


def test_oversampling_draws_more_prompts_after_invalid_groups():
    ema = OversampleEMA(alpha=0.5, max_expansion=4.0)
    c = collector(mixed=set(), oversample=ema, refill=0)  # every group constant: invalid rate 1
    first = c.collect(2, SamplingParams(n=2, seed=0), progress=0.0)
    assert first.drawn == 2 and ema.expansion() == pytest.approx(2.0)  # r = 0.5 * 0 + 0.5 * 1
    second = c.collect(2, SamplingParams(n=2, seed=0), progress=0.0)
    assert second.drawn == 4  # ceil(2 * 1 / (1 - 0.5))


# --- one definition of log-probs, and the reference -------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from mmrl.model.loading import load
    from mmrl.rollout.backends.hf import HFBackend

    loaded = load(tiny_model_dir)
    return loaded, HFBackend(loaded)


def sampled_batch(tiny, synth_file, temperature):
    from mmrl.io.jsonl import iter_located
    from mmrl.rollout.prompts import PromptBuilder

    loaded, backend = tiny
    items = list(iter_located(synth_file))[:2]
    prompts = [PromptBuilder(processor=loaded.processor).build(i) for i in items]
    comps = backend.generate(prompts, SamplingParams(n=3, temperature=temperature, max_new_tokens=6, seed=0))
    groups = [Group(i, p, c) for i, (p, c) in enumerate(zip(prompts, comps))]
    return build_batch(groups, [0.0] * 6)


def test_old_and_new_logprobs_agree_at_a_low_sampling_temperature(tiny, synth_file):
    """Old (frozen pass) and new (training pass) use one definition: the ratio is exactly 1."""
    from mmrl.rl.update import frozen_logprobs, group_logprobs

    loaded, backend = tiny
    batch = sampled_batch(tiny, synth_file, 0.7)
    old = frozen_logprobs(loaded.model, backend.encode, batch, 0.7, 0, micro=1)
    rows, (new, mask) = group_logprobs(loaded.model, backend.encode, batch, [0, 1], 0.7, 0)
    torch.testing.assert_close(new.detach()[rows] * batch.loss_mask, old * batch.loss_mask, atol=1e-5, rtol=0)
    at_one = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=2)
    assert not torch.allclose(old, at_one, atol=1e-3), "log-probs must be taken at the sampling temperature"


def test_micro_batches_give_the_same_logprobs_as_one_batch(tiny, synth_file):
    from mmrl.rl.update import frozen_logprobs

    loaded, backend = tiny
    batch = sampled_batch(tiny, synth_file, 1.0)
    one = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=2)
    split = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=1)
    torch.testing.assert_close(one, split, atol=1e-5, rtol=0)


@pytest.mark.parametrize("loss_agg", ["token-mean", "seq-mean-token-mean"])
def test_the_reported_losses_do_not_depend_on_the_micro_batches(tiny, synth_file, loss_agg):
    """A micro-batch's loss is its part of the mini-batch's (normalised by the whole): the parts
    add up. Averaging them reported about half the loss with two micro-batches."""
    import copy

    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.update import ppo_update
    from mmrl.train.distributed import LocalEngine, OptimSpec

    loaded, backend = tiny
    batch = sampled_batch(tiny, synth_file, 1.0)
    batch.advantages = torch.tensor([1.0, -0.5, 0.25, -1.0, 0.5, 2.0])
    reported = []
    for micro in (None, 1):
        cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=2, group_size=3, loss_agg=loss_agg,
                                    micro_batch_size=micro, beta=0.0)
        engine = LocalEngine(copy.deepcopy(loaded.model), OptimSpec(lr=1e-9))
        reported.append(ppo_update(engine, backend.encode, batch, cfg, 0, seed=0, max_len=6).means())
    for key in ("pg_loss", "loss", "entropy", "ratio_mean"):
        assert reported[1][key] == pytest.approx(reported[0][key], rel=1e-4), key
    assert abs(reported[0]["pg_loss"]) > 0.1


def test_with_lora_the_reference_is_the_base_model_with_adapters_off(tiny_model_dir, synth_file):
    from mmrl.model.loading import load
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import Reference, policy_spec
    from mmrl.rl.update import frozen_logprobs
    from mmrl.rollout.backends.hf import HFBackend

    cfg = GRPOConfig.from_flags(model=tiny_model_dir, data=synth_file, out="unused", lora=True, lora_r=4, beta=0.1)
    policy = load(policy_spec(cfg))
    with torch.no_grad():  # move the adapters away from their zero start
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
    ref = Reference(cfg, policy.model)
    assert ref.model is policy.model, "no second copy of the weights"
    base = load(tiny_model_dir)
    backend = HFBackend(base)
    batch = sampled_batch((base, backend), synth_file, 1.0)
    want = frozen_logprobs(base.model, backend.encode, batch, 1.0, 0, micro=2)
    got = frozen_logprobs(ref.model, HFBackend(policy).encode, batch, 1.0, 0, micro=2, context=ref.context)
    adapted = frozen_logprobs(policy.model, HFBackend(policy).encode, batch, 1.0, 0, micro=2)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert not torch.allclose(adapted, want, atol=1e-4)


def test_beta_zero_loads_no_reference(tiny_model_dir, synth_file):
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import Reference

    cfg = GRPOConfig.from_flags(model=tiny_model_dir, data=synth_file, out="unused", beta=0.0)
    assert not Reference(cfg, policy=None).active


def _update(tiny, batch, lr: float, temperature: float = 1.0, **flags):
    """ppo_update on a copy of the tiny model; the copy (to read its log-probs after) and the stats."""
    import copy

    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.update import frozen_logprobs, ppo_update
    from mmrl.train.distributed import LocalEngine, OptimSpec

    loaded, backend = tiny
    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=2, group_size=3,
                                temperature=temperature, **{"beta": 0.0, **flags})
    model = copy.deepcopy(loaded.model)
    engine = LocalEngine(model, OptimSpec(lr=lr, max_grad_norm=0.0))
    if not cfg.single_update:
        batch.old_logp = frozen_logprobs(model, backend.encode, batch, temperature, 0, micro=2)
    stats = ppo_update(engine, backend.encode, batch, cfg, 0, seed=0, max_len=6).means()
    return model, stats


def _signed_batch(tiny, synth_file, temperature=1.0):
    batch = sampled_batch(tiny, synth_file, temperature)
    batch.advantages = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    return batch


def test_the_first_update_moves_the_policy_towards_positive_advantages(tiny, synth_file):
    """The direction of learning: responses with a positive advantage become likelier."""
    from mmrl.rl.update import frozen_logprobs

    loaded, backend = tiny
    batch = _signed_batch(tiny, synth_file)
    before = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=2)
    model, _ = _update(tiny, batch, lr=1e-2)
    after = frozen_logprobs(model, backend.encode, batch, 1.0, 0, micro=2)
    change = ((after - before) * batch.loss_mask).sum(1)
    assert (change[batch.advantages > 0] > 0).all(), change
    assert change[batch.advantages > 0].mean() > change[batch.advantages < 0].mean() + 1.0, change


def test_an_unchanged_policy_has_ratio_one_at_a_sampling_temperature(tiny, synth_file):
    """Old log-probs (frozen pass) and the update's are taken at the same temperature: with the
    weights not moving, every update of two epochs sees a ratio of exactly 1."""
    batch = _signed_batch(tiny, synth_file, 0.7)
    _, stats = _update(tiny, batch, lr=1e-12, temperature=0.7, ppo_epochs=2)
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-5) and stats["clip_frac"] == 0.0


def test_a_second_epoch_sees_the_ratio_move_and_clips_it(tiny, synth_file):
    """With stored old log-probs the second epoch's ratio leaves 1 after the first epoch's update,
    and the clip catches the tokens that moved past it."""
    batch = _signed_batch(tiny, synth_file)
    _, stats = _update(tiny, batch, lr=5e-2, ppo_epochs=2)
    assert abs(stats["ratio_mean"] - 1.0) > 1e-3 and stats["clip_frac"] > 0.0, stats


def test_the_update_clamps_each_tokens_kl(tiny, synth_file):
    """A reference far from the policy (log-ratio 8 on every token) adds a KL of 10 per token, the
    clamp, not e^8 - 9 = 2972."""
    from mmrl.rl.update import frozen_logprobs

    loaded, backend = tiny
    batch = _signed_batch(tiny, synth_file)
    batch.ref_logp = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=2) + 8.0
    _, stats = _update(tiny, batch, lr=1e-12, beta=0.1)
    assert stats["kl"] == pytest.approx(10.0)


def test_the_sequence_ratio_reaches_the_update(tiny, synth_file):
    """``--importance-sampling-level sequence`` reaches the loss: once the first epoch has moved the
    policy, the second sees one ratio per response (GSPO), whose mean differs from the per-token one."""
    _, tok = _update(tiny, _signed_batch(tiny, synth_file), lr=5e-2, ppo_epochs=2)
    _, seq = _update(tiny, _signed_batch(tiny, synth_file), lr=5e-2, ppo_epochs=2, importance_sampling_level="sequence")
    assert abs(seq["ratio_mean"] - tok["ratio_mean"]) > 1e-4, (seq, tok)


def _policy(tiny, reference_model):
    """What ``update_policy`` reads of a ``trainer.Policy``: an engine on a copy of the tiny model,
    its encoder and a reference (here another model)."""
    import contextlib
    import copy

    from mmrl.train.distributed import LocalEngine, OptimSpec

    loaded, backend = tiny
    engine = LocalEngine(copy.deepcopy(loaded.model), OptimSpec(lr=1e-12, max_grad_norm=0.0))
    reference = SimpleNamespace(model=reference_model, context=contextlib.nullcontext, active=True)
    return SimpleNamespace(engine=engine, encoder=SimpleNamespace(encode=backend.encode), pad_id=0,
                           reference=reference)


def _moved_copy(model, scale=0.05, seed=0):
    import copy

    moved = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in moved.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return moved


def test_kl_in_the_reward_lowers_the_advantage_of_the_responses_far_from_the_reference(tiny, synth_file):
    """``--kl-in-reward``: every reward is equal, so the advantages come from the KL penalty alone;
    in each group the response with the largest summed KL to the reference gets the lowest advantage,
    and the loss carries no KL term (loss = pg_loss) while the KL is still reported."""
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.kl import kl_in_reward
    from mmrl.rl.trainer import update_policy
    from mmrl.rl.update import frozen_logprobs

    loaded, backend = tiny
    batch = sampled_batch(tiny, synth_file, 1.0)  # rewards all 0
    policy = _policy(tiny, _moved_copy(loaded.model))
    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=2, group_size=3, algo="rloo", beta=1.0,
                                kl_in_reward=True)
    row = update_policy(cfg, 0, policy, batch, skip=lambda why: None, t_start=0.0)
    ref = frozen_logprobs(policy.reference.model, backend.encode, batch, 1.0, 0, micro=2)
    old = frozen_logprobs(loaded.model, backend.encode, batch, 1.0, 0, micro=2)
    penalty = kl_in_reward("k3", old, ref, batch.loss_mask, 1.0, 10.0)
    assert penalty.min() > 0 and row["reward/kl_penalty"] == pytest.approx(float(penalty.mean()), rel=1e-4)
    assert batch.advantages.abs().min() > 0
    for rows in ([0, 1, 2], [3, 4, 5]):
        assert int(batch.advantages[rows].argmin()) == int(penalty[rows].argmax()), (batch.advantages, penalty)
    assert row["kl"] > 0 and row["loss"] == pytest.approx(row["pg_loss"], abs=1e-6)


def test_at_beta_zero_the_kl_is_monitored_not_trained(tiny, synth_file):
    """With a reference and beta 0 the update reports the KL and its loss has no KL term."""
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import update_policy

    loaded, _ = tiny
    batch = _signed_batch(tiny, synth_file)
    batch.rewards = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    policy = _policy(tiny, _moved_copy(loaded.model))
    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=2, group_size=3, algo="dapo",
                                monitor_kl="always")
    row = update_policy(cfg, 0, policy, batch, skip=lambda why: None, t_start=0.0)
    assert row["kl"] > 0 and row["loss"] == pytest.approx(row["pg_loss"], abs=1e-6)
