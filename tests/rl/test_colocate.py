"""The colocated rollout cycle with a fake engine: sleep between rollouts, wake, push stale weights
in buckets, and LoRA weights merged under their base names. No GPU and no vLLM here."""
from __future__ import annotations

import pytest
import torch

from mmrl.rl.colocate import ColocatedRollout, named_weights


class FakeLLM:
    def __init__(self, log):
        self.log = log

    def sleep(self, level):
        self.log.append(("sleep", level))

    def wake_up(self, tags):
        self.log.append(("wake", tuple(tags)))


class FakeBackend:
    def __init__(self, sleeps=True):
        self.log = []
        if sleeps:
            self.llm = FakeLLM(self.log)

    def generate(self, prompts, params):
        self.log.append(("generate", len(prompts)))
        return [["x"] for _ in prompts]

    def update_weights(self, weights):
        self.log.append(("update", [name for name, _ in weights]))

    def close(self):
        self.log.append(("close",))


def weights():
    return [("a", torch.zeros(256)), ("b", torch.zeros(256)), ("c", torch.zeros(256))]  # 1 KiB each


def test_the_engine_sleeps_until_a_rollout_and_after_it():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights)
    assert backend.log == [("sleep", 1)]
    rollout.generate([1, 2], None)
    assert backend.log[1:] == [("wake", ("weights",)), ("wake", ("kv_cache",)), ("generate", 2), ("sleep", 1)]


def test_weights_are_pushed_once_after_an_update_and_not_when_unchanged():
    backend = FakeBackend(sleeps=False)
    rollout = ColocatedRollout(backend, weights)
    rollout.generate([1], None)
    assert not any(e[0] == "update" for e in backend.log)
    rollout.mark_updated()
    rollout.generate([1], None)
    rollout.generate([1], None)
    assert [e[0] for e in backend.log] == ["generate", "update", "generate", "generate"] and rollout.pushes == 1


def test_weights_are_pushed_between_waking_the_weights_and_the_cache():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights)
    rollout.mark_updated()
    rollout.generate([1], None)
    assert [e[0] if e[0] != "wake" else e[1][0] for e in backend.log[1:]] == \
        ["weights", "update", "kv_cache", "generate", "sleep"]


def test_sleep_level_2_pushes_the_weights_on_every_wake():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights, sleep_level=2)
    rollout.generate([1], None)
    rollout.generate([1], None)
    assert rollout.pushes == 2


def test_pushes_go_in_buckets():
    backend = FakeBackend(sleeps=False)
    rollout = ColocatedRollout(backend, weights, bucket_mb=2 / 1024)  # 2 KiB: two tensors a bucket
    rollout.push()
    assert [e[1] for e in backend.log] == [["a", "b"], ["c"]]


def test_a_bad_sleep_level_is_refused():
    with pytest.raises(ValueError, match="sleep_level"):
        ColocatedRollout(FakeBackend(), weights, sleep_level=3)


def test_lora_weights_are_merged_under_the_base_names():
    from peft import LoraConfig, get_peft_model

    base = torch.nn.Sequential(torch.nn.Linear(4, 4))
    plain = {k: v.clone() for k, v in base.state_dict().items()}
    model = get_peft_model(base, LoraConfig(r=2, target_modules=["0"], init_lora_weights=False))
    merged = dict(named_weights(model))
    assert set(merged) == set(plain)
    assert not torch.equal(merged["0.weight"], plain["0.weight"])  # the adapter's update is in
    torch.testing.assert_close(model.base_model.model[0].base_layer.weight, plain["0.weight"])  # taken out again


def test_the_trainer_sends_a_colocated_engine_the_weights_of_each_update(rl_config, monkeypatch):
    """--rollout-backend vllm with a stand-in engine (its own copy of the model, generating through
    the hf code): every rollout must see exactly the policy's current weights."""
    import mmrl.rollout.backends.vllm as vllm_module
    from mmrl.model.loading import load
    from mmrl.rl.trainer import train
    from mmrl.rollout.backends.hf import HFBackend

    seen = {"same_weights": [], "pushes": 0, "log": []}

    class StandIn:
        def __init__(self, loaded, **kwargs):
            self.policy = loaded.model
            self.inner = HFBackend(load(loaded.spec))
            self.llm = FakeLLM(seen["log"])

        def generate(self, prompts, params):
            mine, policy = self.inner.model.state_dict(), self.policy.state_dict()
            seen["same_weights"].append(all(torch.equal(mine[k], policy[k]) for k in policy))
            return self.inner.generate(prompts, params)

        def update_weights(self, weights):
            seen["pushes"] += 1
            self.inner.update_weights(weights)

        def close(self):
            seen["log"].append(("close",))

    monkeypatch.setattr(vllm_module, "VLLMBackend", StandIn)
    train(rl_config(max_steps=3, rollout_backend="vllm"))
    assert seen["same_weights"] == [True, True, True]
    assert seen["pushes"] == 2  # before the rollouts of steps 2 and 3
    assert seen["log"][0] == ("sleep", 1) and seen["log"][-1] == ("close",)
