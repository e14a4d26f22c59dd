"""`mmrl model init-tiny` and the one model loader."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.images import load_image
from mmrl.model.loading import LoraSpec, ModelSpec, find_projector, find_vision_tower, load
from mmrl.model.tiny import SIZES, build_tokenizer
from mmrl.prompting import sample_messages


def test_tokenizer_has_the_requested_vocabulary_size():
    assert len(build_tokenizer(512)) == 512


def test_tokenizer_training_is_deterministic():
    text = "<think>count the red squares</think><answer>3</answer>"
    assert build_tokenizer(512)(text).input_ids == build_tokenizer(512)(text).input_ids


def test_format_tags_are_single_tokens_that_survive_decoding():
    tok = build_tokenizer(512)
    text = "<think>a</think><answer>1</answer><|begin_of_box|>1<|end_of_box|>"
    for tag in ("<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>"):
        assert len(tok(tag).input_ids) == 1
    assert tok.decode(tok(text + "<|image_pad|><|im_end|>").input_ids, skip_special_tokens=True) == text


def test_checkpoint_folder_has_what_the_loader_needs(tiny_model_dir):
    names = {p.name for p in Path(tiny_model_dir).iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json",
            "video_preprocessor_config.json", "chat_template.jinja"} <= names
    assert json.loads((Path(tiny_model_dir) / "processor_config.json").read_text())["processor_class"] \
        == "Qwen2_5_VLProcessor"


def test_round_trip_generates_from_an_image_with_the_hub_off(tiny_model_dir, synth_file, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm = load(ModelSpec(tiny_model_dir))
    sample = json.loads(Path(synth_file).read_text().splitlines()[0])
    messages = sample_messages(sample)
    text = lm.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    image = load_image(sample["images"][0], Path(synth_file).parent)
    inputs = lm.processor(text=[text], images=[image], return_tensors="pt")
    assert (inputs["input_ids"] == lm.model.config.image_token_id).sum() > 0
    torch.manual_seed(0)
    out = lm.model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=True)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 8


def test_sizes_grow(tmp_path):
    assert SIZES["xs"].hidden < SIZES["s"].hidden < SIZES["m"].hidden
    for size in SIZES.values():
        assert sum(size.mrope_section) * 2 == size.hidden // size.heads


def test_init_tiny_cli_writes_a_loadable_model(cli, tmp_path):
    result = cli("model", "init-tiny", str(tmp_path / "m"), "--size", "xs", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "xs" in result.stderr and (tmp_path / "m" / "model.safetensors").is_file()


def test_same_seed_same_weights(tmp_path):
    from safetensors.torch import load_file

    from mmrl.model.tiny import init_tiny

    init_tiny(tmp_path / "a", "xs", seed=1)
    init_tiny(tmp_path / "b", "xs", seed=1)
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_frozen_vision_tower_keeps_the_projector_trainable(tiny_model_dir):
    lm = load(ModelSpec(tiny_model_dir, freeze_vision=True))
    proj = {id(p) for p in find_projector(lm.model).parameters()}
    tower = list(find_vision_tower(lm.model).parameters())
    assert all(not p.requires_grad for p in tower if id(p) not in proj)
    assert all(p.requires_grad for p in find_projector(lm.model).parameters())
    assert lm.model.get_input_embeddings().weight.requires_grad


def test_freezing_the_projector_too(tiny_model_dir):
    lm = load(ModelSpec(tiny_model_dir, freeze_vision=True, freeze_projector=True))
    assert not any(p.requires_grad for p in find_vision_tower(lm.model).parameters())


def test_lora_trains_only_adapters(tiny_model_dir):
    lm = load(ModelSpec(tiny_model_dir, lora=LoraSpec(r=4, alpha=8, target_modules="q_proj,v_proj")))
    trainable = [n for n, p in lm.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


def test_missing_model_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="model folder not found"):
        load(ModelSpec(str(tmp_path / "nope")))


def test_unknown_dtype_is_a_config_error(tiny_model_dir):
    with pytest.raises(ConfigError, match="unknown dtype"):
        load(ModelSpec(tiny_model_dir, dtype="float8"))


def test_the_checkpoint_has_the_video_processor_config_autoprocessor_wants(tiny_model_dir):
    """Wherever torchvision loads (vLLM installs it), AutoProcessor builds the video processor too
    and reads it from here; its pixel bounds are the image processor's."""
    folder = Path(tiny_model_dir)
    video = json.loads((folder / "video_preprocessor_config.json").read_text())
    image = json.loads((folder / "processor_config.json").read_text())["image_processor"]
    assert video["video_processor_type"] == "Qwen2VLVideoProcessor"
    assert video["size"] == image["size"] and video["patch_size"] == image["patch_size"]
    assert video["merge_size"] == image["merge_size"] and video["temporal_patch_size"] == image["temporal_patch_size"]


def test_a_text_only_tiny_model_loads_as_a_causal_lm_and_generates(tmp_path):
    from mmrl.model.tiny import init_tiny
    from mmrl.rollout import PromptBuilder, PromptConfig, SamplingParams, make_backend

    info = init_tiny(tmp_path / "t", "text", seed=0)
    lm = load(ModelSpec(info["path"]))
    assert type(lm.model).__name__ == "Qwen2ForCausalLM"
    assert lm.model.config.hidden_size // lm.model.config.num_attention_heads >= 32  # vLLM's CPU kernels
    prompt = PromptBuilder(PromptConfig(), processor=lm.processor).build({"id": "a", "question": "2 + 2?"})
    ((a, b),) = make_backend("hf", lm).generate([prompt], SamplingParams(n=2, max_new_tokens=4, seed=0))
    assert a.num_tokens == b.num_tokens == 4
