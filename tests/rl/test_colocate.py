"""The colocated rollout cycle with a stand-in backend: weights pushed before the first rollout and
after each update, in one update, again when the engine lost them (sleep level 2); the sleep state
belongs to the backend alone. LoRA weights are merged under their base names. No vLLM here."""
from __future__ import annotations

import torch

from mmrl.rl.colocate import ColocatedRollout, named_weights


class FakeLLM:
    """An engine whose sleep calls are recorded: the rollout must make none (the backend owns them)."""

    def __init__(self, log):
        self.log = log

    def sleep(self, level):
        self.log.append(("sleep", level))

    def wake_up(self, tags):
        self.log.append(("wake", tuple(tags)))


class FakeBackend:
    def __init__(self):
        self.log = []
        self.llm = FakeLLM(self.log)
        self.needs_weights = False

    def generate(self, prompts, params):
        self.log.append(("generate", len(prompts)))
        return [["x"] for _ in prompts]

    def update_weights(self, weights):
        self.log.append(("update", [name for name, _ in weights]))
        self.needs_weights = False

    def close(self):
        self.log.append(("close",))


def weights():
    return [("a", torch.zeros(256)), ("b", torch.zeros(256)), ("c", torch.zeros(256))]  # 1 KiB each


def events(backend):
    return [e[0] for e in backend.log]


def test_the_first_rollout_gets_the_policy_weights():
    """The engine loaded the model from disk; the policy may differ already (--resume, LoRA)."""
    backend = FakeBackend()
    ColocatedRollout(backend, weights).generate([1], None)
    assert events(backend) == ["update", "generate"]


def test_weights_are_pushed_once_after_an_update_and_not_when_unchanged():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights)
    rollout.generate([1], None)
    rollout.mark_updated()
    rollout.generate([1], None)
    rollout.generate([1], None)
    assert events(backend) == ["update", "generate", "update", "generate", "generate"] and rollout.pushes == 2


def test_an_engine_that_lost_its_weights_gets_them_again():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights)
    rollout.generate([1], None)
    backend.needs_weights = True  # it slept at level 2
    rollout.generate([1], None)
    assert rollout.pushes == 2


def test_the_rollout_never_sleeps_or_wakes_the_engine_itself():
    backend = FakeBackend()
    rollout = ColocatedRollout(backend, weights)
    rollout.generate([1], None)
    rollout.mark_updated()
    rollout.generate([1], None)
    assert not [e for e in backend.log if e[0] in ("sleep", "wake")]


def test_a_push_is_one_update_with_every_weight():
    backend = FakeBackend()
    ColocatedRollout(backend, weights).push()
    assert [e[1] for e in backend.log] == [["a", "b", "c"]]


def test_lora_weights_are_merged_under_the_base_names():
    from peft import LoraConfig, get_peft_model

    base = torch.nn.Sequential(torch.nn.Linear(4, 4))
    plain = {k: v.clone() for k, v in base.state_dict().items()}
    model = get_peft_model(base, LoraConfig(r=2, target_modules=["0"], init_lora_weights=False))
    merged = dict(named_weights(model))
    assert set(merged) == set(plain)
    assert not torch.equal(merged["0.weight"], plain["0.weight"])  # the adapter's update is in
    torch.testing.assert_close(model.base_model.model[0].base_layer.weight, plain["0.weight"])  # taken out again


class StandIn:
    """--rollout-backend vllm's engine stood in for: its own copy of the model from disk,
    generating through the hf code; records whether each rollout sees the policy's weights."""

    seen: dict = {}

    def __init__(self, loaded, **kwargs):
        from mmrl.model.loading import load
        from mmrl.rollout.backends.hf import HFBackend

        self.policy = loaded.model
        self.inner = HFBackend(load(loaded.spec))
        self.seen["kwargs"] = kwargs

    def generate(self, prompts, params):
        mine, policy = self.inner.model.state_dict(), self.policy.state_dict()
        self.seen["same_weights"].append(all(torch.equal(mine[k], policy[k]) for k in policy))
        return self.inner.generate(prompts, params)

    def update_weights(self, weights):
        self.seen["pushes"] += 1
        self.inner.update_weights(weights)

    def close(self):
        self.seen["closed"] = True


def stand_in(monkeypatch):
    import mmrl.rollout.backends.vllm as vllm_module

    monkeypatch.setattr(vllm_module, "VLLMBackend", StandIn)
    monkeypatch.setattr(StandIn, "seen", {"same_weights": [], "pushes": 0})
    return StandIn.seen


def test_the_trainer_sends_a_colocated_engine_the_weights_of_each_update(rl_config, monkeypatch):
    from mmrl.rl.trainer import train

    seen = stand_in(monkeypatch)
    train(rl_config(max_steps=3, rollout_backend="vllm", max_prompt_length=256))
    assert seen["same_weights"] == [True, True, True]
    assert seen["pushes"] == 3  # before the first rollout, then after each of the first two updates
    assert seen["closed"]


def test_the_trainer_builds_a_colocated_engine_sized_for_its_prompts_and_responses(rl_config, monkeypatch):
    from mmrl.rl.trainer import train

    seen = stand_in(monkeypatch)
    train(rl_config(max_steps=1, rollout_backend="vllm", max_prompt_length=256, think_budget=4, answer_budget=3,
                    vllm_sleep_level=2))
    kwargs = seen["kwargs"]
    assert kwargs["colocate"] is True and kwargs["sleep_level"] == 2 and kwargs["max_prompt_length"] == 256
    assert kwargs["sampling"].think_budget == 4 and kwargs["sampling"].answer_budget == 3


def test_the_first_rollout_after_resume_uses_the_checkpoint_weights(rl_config, monkeypatch):
    import pytest

    from mmrl.rl.trainer import train

    class Crash(Exception):
        pass

    def crash_at_2(report):
        if report.step == 2:
            raise Crash

    seen = stand_in(monkeypatch)
    settings = dict(max_steps=3, save_steps=1, rollout_backend="vllm", max_prompt_length=256)
    with pytest.raises(Crash):
        train(rl_config(**settings), on_step=crash_at_2)
    seen["same_weights"].clear()
    train(rl_config(resume=True, **settings))
    assert seen["same_weights"] == [True, True]


def test_the_vllm_rollout_backend_needs_a_prompt_limit(rl_config):
    import pytest

    from mmrl.errors import ConfigError
    from mmrl.rl.trainer import train

    with pytest.raises(ConfigError, match="--max-prompt-length"):
        train(rl_config(rollout_backend="vllm"))
