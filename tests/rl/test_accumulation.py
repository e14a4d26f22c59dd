"""Under DeepSpeed every mini-batch, short or not, ends in exactly one optimizer update on every
process: the accumulation boundary is announced per mini-batch (not counted by DeepSpeed from a
fixed ``gradient_accumulation_steps``), and a process whose share of a short mini-batch is
smaller runs padding forwards and backwards that carry no loss (ZeRO pairs them up in collectives).

These tests stand DeepSpeed in with an engine that records what the update loop asks of it;
tests/rl/test_deepspeed.py runs ZeRO-2 itself with a short mini-batch."""
from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch

from mmrl.rl.config import GRPOConfig
from mmrl.rl.groups import Group, build_batch
from mmrl.rl.update import frozen_logprobs, padded_share, ppo_update
from mmrl.rollout.types import SamplingParams


class Recording:
    """DeepSpeed stood in for, on process ``rank`` of ``world``: each update is [announced backwards,
    backwards made, gradient mass of each backward]; the update happens at the last backward."""

    steps_in_backward = True
    loss_scale = 1.0

    def __init__(self, model, rank: int, world: int):
        self.model, self.info = model, SimpleNamespace(rank=rank, world_size=world)
        self.updates: list[list] = []

    def begin_update(self, backwards: int) -> None:
        self.updates.append([backwards, 0, []])

    def backward(self, loss) -> None:
        loss.backward()
        update = self.updates[-1]
        update[1] += 1
        update[2].append(sum(float(p.grad.abs().sum()) for p in self.model.parameters() if p.grad is not None))
        self.model.zero_grad()

    def step(self) -> float:
        return 1.0

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def all_reduce_max(self, value: float) -> float:
        return value

    def all_reduce_sum(self, value: float) -> float:
        return value

    def all_gather_object(self, obj):
        return [obj]  # this process's part alone: what it computed itself


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from mmrl.model.loading import load
    from mmrl.rollout.backends.hf import HFBackend

    loaded = load(tiny_model_dir)
    return loaded, HFBackend(loaded)


@pytest.fixture(scope="module")
def three_groups(tiny, synth_file):
    from mmrl.io.jsonl import iter_located
    from mmrl.rollout.prompts import PromptBuilder

    loaded, backend = tiny
    items = list(iter_located(synth_file))[:3]
    prompts = [PromptBuilder(processor=loaded.processor).build(i) for i in items]
    comps = backend.generate(prompts, SamplingParams(n=2, max_new_tokens=5, seed=0))
    batch = build_batch([Group(i, p, c) for i, (p, c) in enumerate(zip(prompts, comps))], [0.0] * 6)
    batch.advantages = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, -2.0])
    return batch


def cfg(**kw):
    return GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=3, mini_batch_size=2, group_size=2,
                                 beta=0.0, **kw)


def updates_of(tiny, batch, c, rank: int, world: int) -> list[list]:
    loaded, backend = tiny
    engine = Recording(copy.deepcopy(loaded.model), rank, world)
    ppo_update(engine, backend.encode, batch, c, 0, seed=0, max_len=5)
    return engine.updates


@pytest.mark.parametrize("flags, backwards", [
    ({"micro_batch_size": 1}, [2, 1]),
    ({"micro_batch_size": 1, "micro_batch_rows": 1}, [6, 3]),  # a backward per row and one per prompt pass
    ({}, [1, 1]),
])
def test_a_short_mini_batch_is_one_update_ending_at_its_own_last_backward(tiny, three_groups, flags, backwards):
    """Batch 3, mini-batch 2 (ZeRO-2, micro 1 in the issue): two updates, the second of one group;
    each announces exactly the backwards it makes, so DeepSpeed's boundary falls at its end."""
    updates = updates_of(tiny, three_groups, cfg(**flags), rank=0, world=1)
    assert [(announced, made) for announced, made, _ in updates] == [(b, b) for b in backwards]


def test_every_process_makes_the_same_backwards_and_the_padding_carries_no_gradient(tiny, three_groups):
    """Two processes, mini-batch 2 of a 3-group batch: the short mini-batch's one group is the first
    process's; the second runs a padding backward, as many as the first, without gradient."""
    c = cfg(micro_batch_size=1)
    first, second = (updates_of(tiny, three_groups, c, rank, 2) for rank in (0, 1))
    assert [(a, m) for a, m, _ in first] == [(a, m) for a, m, _ in second] == [(1, 1), (1, 1)]
    assert first[1][2][0] > 0 and second[0][2][0] > 0 and second[1][2] == [0.0], (first, second)


def test_padded_shares_are_equal_and_say_what_is_the_processs_own():
    assert padded_share([7, 8, 9], 0, 2) == ([7, 9], 2)
    assert padded_share([7, 8, 9], 1, 2) == ([8, 7], 1)  # group 7 again, its result dropped
    assert padded_share([7], 1, 2) == ([7], 0)
    assert padded_share([7, 8, 9], 0, 1) == ([7, 8, 9], 3)


def test_a_frozen_pass_of_a_short_share_runs_as_many_forwards_and_keeps_only_its_rows(tiny, three_groups,
                                                                                      monkeypatch):
    import mmrl.rl.update as update

    loaded, backend = tiny
    calls = []
    real = update.group_logprobs

    def counting(*a, **k):
        calls.append(a[3])
        return real(*a, **k)

    monkeypatch.setattr(update, "group_logprobs", counting)
    full = frozen_logprobs(loaded.model, backend.encode, three_groups, 1.0, 0, micro=1)
    calls.clear()
    engine = Recording(loaded.model, 1, 2)
    mine = frozen_logprobs(loaded.model, backend.encode, three_groups, 1.0, 0, micro=1, engine=engine)
    assert calls == [[1], [0]]  # its own group, then the padding one
    torch.testing.assert_close(mine[2:4], full[2:4], atol=1e-5, rtol=0)
    assert mine[[0, 1, 4, 5]].abs().sum() == 0  # the padding group's rows were not written
