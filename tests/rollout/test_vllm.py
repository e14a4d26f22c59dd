"""The vllm backend's pure-Python parts (vLLM itself needs a CUDA machine; the backend against a
fake engine is tests/rollout/test_vllm_engine.py)."""
from __future__ import annotations

import importlib.util
import inspect
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from mmrl.errors import ConfigError
from mmrl.model.loading import ModelSpec
from mmrl.rollout import Completion, SamplingParams, make_backend
from mmrl.rollout.backends.vllm import (
    COLOCATED_MEMORY_SHARE,
    STANDALONE_MEMORY_SHARE,
    WORKER_EXTENSION,
    completion_from_output,
    continuation_params,
    engine_context_length,
    engine_kwargs,
    engine_request,
    image_uuid,
    replicate,
    sampling_kwargs,
    vllm_weight_name,
    vllm_weights,
    weight_chunks,
)
from mmrl.rollout.backends.vllm_weights import pack_weight, unpack_weight
from mmrl.rollout.cleaning import clean_response
from mmrl.rollout.forced import Continuation, response_budget


def test_sampling_params_map_to_vllm_names():
    kw = sampling_kwargs(SamplingParams(n=8, temperature=1.2, top_p=0.9, top_k=0, stop=["</answer>"], logprobs=True),
                         max_tokens=256, seed=7)
    assert kw == {"n": 8, "temperature": 1.2, "top_p": 0.9, "top_k": -1, "max_tokens": 256,
                  "skip_special_tokens": True, "stop": ["</answer>"], "seed": 7, "logprobs": 0}
    assert sampling_kwargs(SamplingParams(top_k=20), 8, None)["top_k"] == 20
    assert "seed" not in sampling_kwargs(SamplingParams(), 8, None)


def test_engine_request_carries_token_ids_images_and_their_cache_ids():
    img = Image.new("RGB", (56, 56))
    one = engine_request([1, 2], [img], ["a"])
    assert one == {"prompt_token_ids": [1, 2], "multi_modal_data": {"image": img}, "multi_modal_uuids": {"image": ["a"]}}
    two = engine_request([1], [img, img], ["a", "a"])
    assert two["multi_modal_data"]["image"] == [img, img]
    assert engine_request([3], [], []) == {"prompt_token_ids": [3]}


def test_image_cache_id_follows_the_image_content():
    black, white = Image.new("RGB", (28, 28)), Image.new("RGB", (28, 28), "white")
    assert image_uuid(black, 0) == image_uuid(black.copy(), 0) != image_uuid(white, 0)


def test_image_cache_id_changes_with_the_weights():
    img = Image.new("RGB", (28, 28))
    assert image_uuid(img, 0) != image_uuid(img, 1)


@pytest.mark.parametrize("ours, theirs", [
    ("model.language_model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.weight"),
    ("model.visual.blocks.0.attn.qkv.weight", "visual.blocks.0.attn.qkv.weight"),
    ("lm_head.weight", "lm_head.weight"),
    ("base_model.model.model.language_model.norm.weight", "model.norm.weight"),
    ("model.language_model.layers.1.mlp.up_proj.base_layer.weight", "model.layers.1.mlp.up_proj.weight"),
])
def test_weight_names_follow_the_checkpoint_layout(ours, theirs):
    assert vllm_weight_name(ours) == theirs


def test_lora_weights_must_be_merged_first():
    with pytest.raises(ConfigError, match="merge LoRA"):
        list(vllm_weights({"model.language_model.layers.0.q_proj.lora_A.default.weight": 0}))


def test_weights_travel_in_chunks_of_about_the_byte_budget():
    items = [(f"w{i}", torch.zeros(4)) for i in range(5)]  # 16 bytes each
    assert [[name for name, _ in chunk] for chunk in weight_chunks(items, 32, packed=False)] == [
        ["w0", "w1"], ["w2", "w3"], ["w4"]]


def test_weights_for_another_process_are_packed_in_native_msgpack_types():
    weight = torch.ones(2, 3, requires_grad=True)
    (packed,) = next(weight_chunks([("w", weight)], 1 << 20, packed=True))
    assert packed[:3] == ["w", "float32", [2, 3]] and isinstance(packed[3], bytes) and len(packed[3]) == 24


@pytest.mark.parametrize("tensor", [torch.randn(5, 3), torch.randn(4, 6).t(), torch.randn(3).to(torch.bfloat16),
                                    torch.tensor(2.5, dtype=torch.float16), torch.zeros(0, 4),
                                    torch.arange(6, dtype=torch.int64)], ids=str)
def test_a_packed_weight_unpacks_to_the_same_tensor(tensor):
    name, back = unpack_weight(pack_weight("w", tensor))
    assert name == "w" and back.dtype == tensor.dtype and torch.equal(back, tensor)


def test_a_packed_weight_unpacks_from_what_msgpack_gives_back():
    """Lists for tuples and a memoryview for the bytes, as an untyped msgpack decode returns them."""
    name, dtype, shape, data = pack_weight("w", torch.ones(2, 2))
    _, back = unpack_weight([name, dtype, list(shape), memoryview(data)])
    assert torch.equal(back, torch.ones(2, 2))


def test_an_unknown_dtype_is_refused_by_name():
    with pytest.raises(ValueError, match="w: unknown tensor dtype 'float99'"):
        unpack_weight(["w", "float99", [1], b"\0\0\0\0"])


def test_weights_for_this_process_share_the_trainers_memory():
    weight = torch.ones(2)
    ((_, sent),) = next(weight_chunks([("w", weight)], 1 << 20, packed=False))
    assert sent.data_ptr() == weight.data_ptr()


def test_engine_outputs_become_completions():
    lp = [{5: SimpleNamespace(logprob=-0.5)}, {6: SimpleNamespace(logprob=-1.5)}]
    out = SimpleNamespace(text="<answer>4</answer><|im_end|> tail", token_ids=[5, 6], finish_reason="stop", logprobs=lp)
    c = completion_from_output(out, clean_response, stop=[" tail"])
    assert (c.text, c.token_ids, c.finish_reason, c.num_tokens, c.logprobs) == (
        "<answer>4</answer>", [5, 6], "stop", 2, [-0.5, -1.5])
    cut = completion_from_output(SimpleNamespace(text="x", token_ids=[1], finish_reason="length", logprobs=None),
                                 clean_response, [])
    assert cut.finish_reason == "length" and cut.logprobs is None


@pytest.mark.parametrize("reason", ["abort", "error", "repetition", None])
def test_draws_the_engine_ended_otherwise_are_errors_not_stops(reason):
    out = SimpleNamespace(text="x", token_ids=[1], finish_reason=reason, logprobs=None)
    with pytest.raises(RuntimeError, match=f"finish_reason {reason!r}"):
        completion_from_output(out, clean_response, [])


def test_greedy_groups_are_one_draw_copied():
    groups = replicate([[Completion("a", [1], "stop", 1)]], 3)
    assert groups == [[Completion("a", [1], "stop", 1)] * 3]
    assert len({id(c) for c in groups[0]}) == 3


def test_continuing_a_forced_answer_drops_stop_strings():
    params = SamplingParams(n=4, max_new_tokens=20, think_budget=5, stop=["</answer>"])
    forced = continuation_params(params, Continuation(0, 1, "x", 4, forced=True))
    assert (forced.n, forced.think_budget, forced.stop) == (1, None, [])


def test_continuing_closed_thinking_keeps_stop_strings():
    params = SamplingParams(n=4, max_new_tokens=20, think_budget=5, stop=["</answer>"])
    assert continuation_params(params, Continuation(0, 1, "x", 4, forced=False)).stop == ["</answer>"]


def test_engine_context_is_the_prompt_limit_plus_new_tokens_plus_one():
    """vLLM refuses a prompt of max_model_len tokens: a prompt at the limit must leave one free."""
    assert engine_context_length(None, 1024, 512, colocate=False) == 1537


def test_the_response_budget_counts_a_forced_answers_tail():
    params = SamplingParams(max_new_tokens=20, think_budget=16, answer_budget=10)
    assert response_budget(params, forced_tokens=3) == 29
    assert response_budget(SamplingParams(max_new_tokens=20), forced_tokens=3) == 20


def test_explicit_engine_context_wins():
    assert engine_context_length(4096, 1024, 512, colocate=True) == 4096


def test_unsized_engine_keeps_vllms_default_when_it_has_the_gpu():
    assert engine_context_length(None, None, 512, colocate=False) is None


def test_unsized_colocated_engine_is_refused():
    with pytest.raises(ConfigError, match="colocated"):
        engine_context_length(None, 1024, None, colocate=True)


def test_engine_gets_the_model_revision_and_dtype():
    kw = engine_kwargs(ModelSpec("org/m", dtype="bfloat16", revision="abc123"))
    assert (kw["model"], kw["revision"], kw["tokenizer_revision"], kw["dtype"]) == ("org/m", "abc123", "abc123", "bfloat16")


def test_engine_log_probs_are_taken_after_temperature():
    assert engine_kwargs(ModelSpec("m"))["logprobs_mode"] == "processed_logprobs"


def test_engine_workers_can_load_pushed_weights():
    assert engine_kwargs(ModelSpec("m"))["worker_extension_cls"] == WORKER_EXTENSION


def test_standalone_engine_share_is_the_command_lines_default():
    from mmrl_cli.rollout import rollout

    cli_default = inspect.signature(rollout).parameters["gpu_memory_utilization"].default.default
    assert engine_kwargs(ModelSpec("m"))["gpu_memory_utilization"] == STANDALONE_MEMORY_SHARE == cli_default


def test_colocated_engine_is_in_process_small_and_sleeps():
    kw = engine_kwargs(ModelSpec("m"), colocate=True, sleep_level=1)
    assert (kw["distributed_executor_backend"], kw["enable_sleep_mode"], kw["gpu_memory_utilization"]) == (
        "external_launcher", True, COLOCATED_MEMORY_SHARE)


def test_an_engine_that_never_sleeps_has_no_sleep_mode():
    assert "enable_sleep_mode" not in engine_kwargs(ModelSpec("m"), colocate=True, sleep_level=0)


def test_engine_options_override_the_defaults():
    assert engine_kwargs(ModelSpec("m"), colocate=True, sleep_level=1, enable_sleep_mode=False)["enable_sleep_mode"] is False


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"pip install 'mmrl\[vllm\]'"):
        make_backend("vllm", "some/model")
