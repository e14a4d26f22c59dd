"""The vllm backend's pure-Python parts (vLLM itself needs a CUDA machine)."""
from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest
from PIL import Image

from mmrl.errors import ConfigError
from mmrl.rollout import Prompt, SamplingParams, make_backend
from mmrl.rollout.backends.vllm import (
    completion_from_output,
    engine_model,
    engine_request,
    sampling_kwargs,
    vllm_weight_name,
    vllm_weights,
)
from mmrl.rollout.cleaning import clean_response


def test_sampling_params_map_to_vllm_names():
    kw = sampling_kwargs(SamplingParams(n=8, temperature=1.2, top_p=0.9, top_k=0, stop=["</answer>"], logprobs=True),
                         max_tokens=256, seed=7)
    assert kw == {"n": 8, "temperature": 1.2, "top_p": 0.9, "top_k": -1, "max_tokens": 256,
                  "skip_special_tokens": True, "stop": ["</answer>"], "seed": 7, "logprobs": 0}
    assert sampling_kwargs(SamplingParams(top_k=20), 8, None)["top_k"] == 20
    assert "seed" not in sampling_kwargs(SamplingParams(), 8, None)


def test_engine_request_carries_text_and_resized_images():
    img = Image.new("RGB", (56, 56))
    one = engine_request(Prompt("a", [], [img], {}), "TEXT")
    assert one == {"prompt": "TEXT", "multi_modal_data": {"image": img}}
    two = engine_request(Prompt("a", [], [img, img], {}), "T")
    assert two["multi_modal_data"]["image"] == [img, img]
    assert engine_request(Prompt("a", [], [], {}), "T") == {"prompt": "T"}


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


def test_engine_outputs_become_completions():
    lp = [{5: SimpleNamespace(logprob=-0.5)}, {6: SimpleNamespace(logprob=-1.5)}]
    out = SimpleNamespace(text="<answer>4</answer><|im_end|> tail", token_ids=[5, 6], finish_reason="stop", logprobs=lp)
    c = completion_from_output(out, clean_response, stop=[" tail"])
    assert (c.text, c.token_ids, c.finish_reason, c.num_tokens, c.logprobs) == (
        "<answer>4</answer>", [5, 6], "stop", 2, [-0.5, -1.5])
    cut = completion_from_output(SimpleNamespace(text="x", token_ids=[1], finish_reason="length", logprobs=None),
                                 clean_response, [])
    assert cut.finish_reason == "length" and cut.logprobs is None


def test_engine_model_is_found_in_both_engine_layouts():
    model = object()
    v1 = SimpleNamespace(llm_engine=SimpleNamespace(model_executor=SimpleNamespace(
        driver_worker=SimpleNamespace(worker=SimpleNamespace(model_runner=SimpleNamespace(model=model))))))
    v0 = SimpleNamespace(llm_engine=SimpleNamespace(model_executor=SimpleNamespace(
        driver_worker=SimpleNamespace(model_runner=SimpleNamespace(model=model)))))
    assert engine_model(v1) is model and engine_model(v0) is model


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"pip install 'mmrl\[vllm\]'"):
        make_backend("vllm", "some/model")
