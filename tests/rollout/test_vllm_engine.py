"""The vllm backend driving a fake vLLM that has the real one's structure (tests/rollout/fake_vllm.py):
engine multiprocessing on by default with vLLM's msgpack wire format between the processes, no
in-process model, greedy n > 1 refused, images expanded by the engine and their features cached
across requests, the executor's sleep state. The behaviours that do not need images also run
against the real engine (tests/rollout/test_vllm_real.py, ``-m vllm``)."""
from __future__ import annotations

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.rollout import PromptBuilder, PromptConfig, SamplingParams, make_backend
from mmrl.rollout.backends.vllm import LAUNCHER_VARS
from tests.rollout import fake_vllm

WEIGHT = "model.language_model.layers.0.mlp.up_proj.weight"
SIZED = {"max_prompt_length": 512, "max_new_tokens": 64}
THINK_END, ANSWER, ANSWER_TOKEN, EOS = 507, 508, 150, 2  # token ids of the xs tiny tokenizer


@pytest.fixture
def vllm(monkeypatch):
    fake = fake_vllm.install(monkeypatch)
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")  # recorded, so restored after the test
    monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING")  # vLLM's default: on
    for var in LAUNCHER_VARS:
        monkeypatch.setenv(var, "")  # recorded, so that what a test's engine sets is undone after it
        monkeypatch.delenv(var)
    return fake


@pytest.fixture(scope="module")
def image_prompts(samples, tiny_model_dir):
    from mmrl.model.processor import load_processor

    builder = PromptBuilder(PromptConfig(), processor=load_processor(tiny_model_dir))
    return [builder.build(item) for item in samples if item.record.get("images")][:2]


def backend_for(model_dir, **options):
    return make_backend("vllm", model_dir, **options)


def loaded_weights(backend):
    return [w.model_runner.model.params for w in backend.llm.workers]


# --- weights -----------------------------------------------------------------------------------

def test_weights_reach_the_model_with_engine_multiprocessing_on_as_by_default(vllm, tiny_model_dir):
    """Across vLLM's wire format: a large tensor (a side buffer) and a small one (inline), bf16 too."""
    backend = backend_for(tiny_model_dir)
    big, small = torch.randn(64, 32), torch.arange(4.0).to(torch.bfloat16)
    backend.update_weights({WEIGHT: big, WEIGHT.replace("up", "down"): small})
    (loaded,) = loaded_weights(backend)
    assert torch.equal(loaded["model.layers.0.mlp.up_proj.weight"], big)
    assert torch.equal(loaded["model.layers.0.mlp.down_proj.weight"], small)
    assert loaded["model.layers.0.mlp.down_proj.weight"].dtype == torch.bfloat16


def test_a_tensor_sent_as_an_rpc_argument_does_not_arrive_as_a_tensor(vllm, tiny_model_dir):
    """What the fake's process boundary does (vLLM's untyped decode of utility calls)."""
    (arrived,) = fake_vllm.over_the_wire([torch.ones(64, 32)])
    assert arrived[:2] == ["float32", [64, 32]] and not isinstance(arrived, torch.Tensor)


def test_every_tensor_parallel_worker_loads_the_weights(vllm, tiny_model_dir):
    backend = backend_for(tiny_model_dir, tensor_parallel_size=2)
    backend.update_weights([(WEIGHT, torch.ones(2))])
    assert [sorted(loaded) for loaded in loaded_weights(backend)] == [["model.layers.0.mlp.up_proj.weight"]] * 2


def test_new_weights_drop_the_prefix_cache(vllm, tiny_model_dir):
    backend = backend_for(tiny_model_dir)
    backend.update_weights({WEIGHT: torch.ones(2)})
    assert backend.llm.prefix_cache_resets == 1


def test_colocated_engine_takes_the_tensors_without_a_copy(vllm, tiny_model_dir):
    backend = backend_for(tiny_model_dir, colocate=True, **SIZED)
    weight = torch.ones(3)
    backend.update_weights({WEIGHT: weight})
    (model,) = backend.llm.models
    assert model.received["model.layers.0.mlp.up_proj.weight"].data_ptr() == weight.data_ptr()


def test_image_features_are_computed_again_after_new_weights(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir)
    params = SamplingParams(max_new_tokens=3, seed=0)
    backend.generate(image_prompts[:1], params)
    backend.update_weights({WEIGHT: torch.ones(2)})
    backend.generate(image_prompts[:1], params)
    (model,) = [w.model_runner.model for w in backend.llm.workers]
    assert backend.llm.encoder_versions == [0, model.version]


# --- drawing -----------------------------------------------------------------------------------

def test_greedy_draws_once_and_copies_it_n_times(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir)
    (group,) = backend.generate(image_prompts[:1], SamplingParams(n=3, temperature=0, max_new_tokens=5))
    assert [sp.n for _, sp in backend.llm.requests] == [1]
    assert group == [group[0]] * 3 and group[1] is not group[0]


def test_n_sampled_draws_are_one_request_of_n(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir)
    groups = backend.generate(image_prompts, SamplingParams(n=4, max_new_tokens=5, seed=0))
    assert [len(g) for g in groups] == [4, 4]
    assert [sp.n for _, sp in backend.llm.requests] == [4, 4]


def test_prompts_reach_the_engine_as_token_ids_with_their_images(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir)
    backend.generate(image_prompts[:1], SamplingParams(max_new_tokens=2, seed=0))
    ((request, _),) = backend.llm.requests
    assert request["prompt_token_ids"] == backend.tokenizer.encode(image_prompts[0].text)
    assert request["multi_modal_data"]["image"] is image_prompts[0].images[0]


# --- forced answering --------------------------------------------------------------------------

def think_forever(context, params, weights=0):
    """Never closes its thinking; once forced, answers one token and ends."""
    if context[-1] == ANSWER:
        return ANSWER_TOKEN
    return EOS if context[-1] == ANSWER_TOKEN else 100


def close_then_ramble(context, params, weights=0):
    """Closes its thinking at once, then goes on past the think budget."""
    return THINK_END if context[-1] != THINK_END and 100 not in context[-3:] else 100


FORCING = SamplingParams(max_new_tokens=20, think_budget=6, answer_budget=4, seed=0, stop=["zzz"])


def test_forced_answer_continues_from_the_drawn_token_ids(vllm, monkeypatch, tiny_model_dir, image_prompts):
    monkeypatch.setattr(fake_vllm, "script", think_forever)
    backend = backend_for(tiny_model_dir)
    ((completion,),) = backend.generate(image_prompts[:1], FORCING)
    (first, _), (second, _) = backend.llm.requests
    forced = backend.tokenizer.encode(FORCING.forced_text, add_special_tokens=False)
    assert second["prompt_token_ids"] == first["prompt_token_ids"] + completion.token_ids[:6] + forced
    assert second["multi_modal_data"] == first["multi_modal_data"]


def test_forced_tokens_are_recorded_but_masked_out_of_the_loss(vllm, monkeypatch, tiny_model_dir, image_prompts):
    monkeypatch.setattr(fake_vllm, "script", think_forever)
    backend = backend_for(tiny_model_dir)
    ((completion,),) = backend.generate(image_prompts[:1], FORCING)
    forced = backend.tokenizer.encode(FORCING.forced_text, add_special_tokens=False)
    assert completion.token_ids == [100] * 6 + forced + [ANSWER_TOKEN, EOS]
    assert completion.loss_mask == [1] * 6 + [0] * len(forced) + [1, 1]
    assert completion.finish_reason == "forced"


def test_stop_strings_do_not_apply_once_an_answer_is_forced(vllm, monkeypatch, tiny_model_dir, image_prompts):
    monkeypatch.setattr(fake_vllm, "script", think_forever)
    backend = backend_for(tiny_model_dir)
    backend.generate(image_prompts[:1], FORCING)
    assert [sp.stop for _, sp in backend.llm.requests] == [["zzz"], []]


def test_stop_strings_still_apply_when_closed_thinking_goes_on(vllm, monkeypatch, tiny_model_dir, image_prompts):
    monkeypatch.setattr(fake_vllm, "script", close_then_ramble)
    backend = backend_for(tiny_model_dir)
    backend.generate(image_prompts[:1], FORCING)
    assert [sp.stop for _, sp in backend.llm.requests] == [["zzz"], ["zzz"]]


# --- engine set-up and lifetime ------------------------------------------------------------------

def test_engine_is_sized_for_the_prompt_limit_plus_new_tokens(vllm, tiny_model_dir):
    backend = backend_for(tiny_model_dir, **SIZED)
    assert backend.llm.kwargs["max_model_len"] == 577 and backend.context_length == 577  # one to spare: >=


def ramble(context, params, weights=0):
    """Never closes its thinking, never ends."""
    return 100


LONG_TAIL = SamplingParams(max_new_tokens=8, think_budget=6, answer_budget=6, seed=0)  # 6 + forced + 6 > 8


def test_a_forced_answer_of_a_prompt_at_the_limit_gets_its_whole_answer_budget(vllm, monkeypatch, tiny_model_dir):
    monkeypatch.setattr(fake_vllm, "script", ramble)
    probe = backend_for(tiny_model_dir, max_prompt_length=1, sampling=LONG_TAIL)
    prompt = PromptBuilder(PromptConfig(), processor=probe.processor).build({"id": "a", "question": "2+2?"})
    limit = len(probe.tokenizer.encode(prompt.text))
    forced = len(probe.tokenizer.encode(LONG_TAIL.forced_text, add_special_tokens=False))
    backend = backend_for(tiny_model_dir, max_prompt_length=limit, sampling=LONG_TAIL)
    ((completion,),) = backend.generate([prompt], LONG_TAIL)
    assert completion.finish_reason == "forced" and completion.num_tokens == 6 + forced + 6


def test_the_engine_refuses_a_prompt_that_fills_its_context(vllm, tiny_model_dir):
    """vLLM's input processor: at least one output token must fit (prompt_len >= max_model_len)."""
    probe = backend_for(tiny_model_dir, max_model_len=10_000)
    prompt = PromptBuilder(PromptConfig(), processor=probe.processor).build({"id": "a", "question": "2+2?"})
    length = len(probe.tokenizer.encode(prompt.text))
    with pytest.raises(ValueError, match="longer than the maximum model length"):
        backend_for(tiny_model_dir, max_model_len=length).generate([prompt], SamplingParams(max_new_tokens=2))
    backend_for(tiny_model_dir, max_model_len=length + 1).generate([prompt], SamplingParams(max_new_tokens=2))


def test_a_push_goes_through_the_model_runners_reload_where_vllm_has_one(vllm, tiny_model_dir):
    """One reload for the whole push: vLLM reprocesses each layer (its CPU build repacks them)."""
    backend = backend_for(tiny_model_dir)
    backend.update_weights({WEIGHT: torch.ones(2), WEIGHT.replace("up", "down"): torch.ones(3)})
    assert [w.model_runner.reloads for w in backend.llm.workers] == [1]


def test_colocated_engine_runs_in_process_and_sleeps_between_uses(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir, colocate=True, **SIZED)
    backend.generate(image_prompts[:1], SamplingParams(max_new_tokens=2, seed=0))
    assert not backend.llm.multiprocess
    assert backend.llm.events == ["sleep:1", "wake_up:weights,kv_cache", "generate", "sleep:1"]


def test_colocated_weight_push_maps_back_the_weights_only(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir, colocate=True, **SIZED)
    backend.update_weights({WEIGHT: torch.ones(2)})
    backend.generate(image_prompts[:1], SamplingParams(max_new_tokens=2, seed=0))
    assert backend.llm.events == ["sleep:1", "wake_up:weights", "rpc:mmrl_stage_weights", "rpc:mmrl_commit_weights", "reset_prefix_cache",
                                  "wake_up:kv_cache", "generate", "sleep:1"]


def test_colocated_engine_needs_its_size(vllm, tiny_model_dir):
    with pytest.raises(ConfigError, match="max_prompt_length and max_new_tokens"):
        backend_for(tiny_model_dir, colocate=True)


def test_sleep_level_2_really_sleeps_at_level_2_and_gets_the_weights_again(vllm, tiny_model_dir, image_prompts):
    from mmrl.rl.colocate import ColocatedRollout

    backend = backend_for(tiny_model_dir, colocate=True, sleep_level=2, **SIZED)
    rollout = ColocatedRollout(backend, lambda: [(WEIGHT, torch.ones(2))])
    params = SamplingParams(max_new_tokens=2, seed=0)
    rollout.generate(image_prompts[:1], params)
    rollout.generate(image_prompts[:1], params)
    events = backend.llm.events
    assert "sleep-ignored:2" not in events and events.count("sleep:2") == 3
    assert events.count("rpc:mmrl_commit_weights") == 2  # the weights come again after each level-2 sleep


def test_an_engine_without_weights_refuses_to_generate(vllm, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir, colocate=True, sleep_level=2, **SIZED)
    with pytest.raises(RuntimeError, match="holds no weights"):
        backend.generate(image_prompts[:1], SamplingParams(max_new_tokens=2, seed=0))


def test_the_trainer_cache_is_emptied_before_a_colocated_wake(vllm, monkeypatch, tiny_model_dir, image_prompts):
    backend = backend_for(tiny_model_dir, colocate=True, **SIZED)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: backend.llm.events.append("empty_cache"))
    backend.generate(image_prompts[:1], SamplingParams(max_new_tokens=2, seed=0))
    assert backend.llm.events[1:3] == ["empty_cache", "wake_up:weights,kv_cache"]


def test_close_shuts_the_engine_down(vllm, tiny_model_dir):
    backend = backend_for(tiny_model_dir)
    engine = backend.llm
    backend.close()
    backend.close()
    assert engine.llm_engine.engine_core.shut_down and backend.llm is None


def test_close_gives_back_the_multiprocessing_setting_vllm_changed(vllm, tiny_model_dir):
    import os

    backend = backend_for(tiny_model_dir, colocate=True, **SIZED)
    assert os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"  # the external launcher's
    backend.close()
    assert "VLLM_ENABLE_V1_MULTIPROCESSING" not in os.environ
    assert not [var for var in LAUNCHER_VARS if var in os.environ]  # set for the launcher, taken back
