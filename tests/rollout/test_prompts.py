"""Samples become prompts: instructions, the CoT pool, choices, images and the length guard."""
from __future__ import annotations

import pytest

from mmrl.errors import DataError
from mmrl.io.jsonl import Located
from mmrl.rollout import COT_POOL, PromptBuilder, PromptConfig, build_prompt
from mmrl.rollout.cleaning import clean_response, make_cleaner


def user_text(prompt):
    parts = prompt.messages[-1]["content"]
    return "".join(p.get("text", "") for p in parts)


def test_cot_pool_has_about_twenty_wordings_of_one_format():
    assert 18 <= len(COT_POOL) <= 24
    assert len(set(COT_POOL)) == len(COT_POOL)
    assert all("<think>" in t and "<answer>" in t for t in COT_POOL)


def test_pool_draw_is_seeded_per_sample():
    cfg = PromptConfig(cot_pool=True, pool_seed=3)
    assert cfg.instruction_for("a") == cfg.instruction_for("a")
    drawn = {cfg.instruction_for(f"id-{i}") for i in range(100)}
    assert len(drawn) > 10
    other = PromptConfig(cot_pool=True, pool_seed=4)
    assert [cfg.instruction_for(f"id-{i}") for i in range(20)] != [other.instruction_for(f"id-{i}") for i in range(20)]


def test_instruction_and_system_prompt(samples, hf_backend):
    cfg = PromptConfig(system="You are careful.", instruction="Answer briefly.")
    prompt = PromptBuilder(cfg, hf_backend.processor).build(samples[0])
    assert prompt.messages[0] == {"role": "system", "content": "You are careful."}
    assert user_text(prompt).endswith("\nAnswer briefly.")
    assert "You are careful." in prompt.text


def test_choices_are_rendered_into_the_question(samples, hf_backend):
    item = next(s for s in samples if "choices" in s.record)
    text = user_text(PromptBuilder(PromptConfig(instruction=None), hf_backend.processor).build(item))
    for letter, choice in zip("ABC", item.record["choices"]):
        assert f"({letter}) {choice}" in text


def test_images_are_resized_as_the_processor_will(samples, hf_backend):
    from mmrl.model.processor import image_factor

    prompt = PromptBuilder(PromptConfig(), hf_backend.processor).build(samples[0])
    f = image_factor(hf_backend.processor)
    (img,) = prompt.images
    assert img.width % f == 0 and img.height % f == 0
    assert prompt.image_tokens == (img.width // f) * (img.height // f)
    n_tokens = hf_backend.encode([prompt])["input_ids"].shape[1]
    from mmrl.rollout.prompt_fit import prompt_length

    assert prompt_length(prompt, hf_backend.processor) == n_tokens


def test_guard_refuses_a_prompt_over_max_length_naming_the_sample(samples, hf_backend):
    builder = PromptBuilder(PromptConfig(max_prompt_length=10), hf_backend.processor)
    with pytest.raises(DataError) as e:
        builder.build(samples[2])
    msg = str(e.value)
    assert msg.startswith(f"{samples[2].path}:{samples[2].line}: images: prompt is ")
    assert "max_prompt_length is 10" in msg and "image tokens" in msg


def test_guard_refuses_text_holding_the_image_token(samples, hf_backend):
    rec = dict(samples[0].record, question="What is <|image_pad|> here?")
    with pytest.raises(DataError, match=r":7: question: the prompt has 2 image placeholder"):
        PromptBuilder(PromptConfig(), hf_backend.processor).build(Located(rec, "in.jsonl", 7), base_dir=_dir(samples))


def _dir(samples):
    from pathlib import Path

    return Path(samples[0].path).parent


def test_missing_image_names_file_line_and_field(samples, hf_backend):
    rec = dict(samples[0].record, images=["images/nope.png"])
    with pytest.raises(DataError, match=r"in.jsonl:3: images\[0\]: image file not found"):
        PromptBuilder(PromptConfig(), hf_backend.processor).build(Located(rec, "in.jsonl", 3), base_dir=_dir(samples))


def test_build_prompt_from_a_plain_dict_without_processor(samples):
    prompt = build_prompt(dict(samples[0].record), base_dir=_dir(samples))
    assert prompt.id == samples[0].record["id"] and prompt.text is None and len(prompt.images) == 1


def test_cleaning_removes_spurious_tokens_and_keeps_the_format():
    text = "<think>a<|image_pad|>b</think><answer><|begin_of_box|>4<|end_of_box|></answer><|im_end|><|endoftext|>"
    assert clean_response(text) == "<think>ab</think><answer><|begin_of_box|>4<|end_of_box|></answer>"


def test_cleaner_knows_the_tokenizers_special_tokens(loaded):
    cleaner = make_cleaner(loaded.tokenizer)
    assert cleaner("x<|quad_start|>y<|vision_pad|>") == "xy"
    # Qwen-VL's grounding markers are control tokens: hf decoding drops them, so every backend does
    assert cleaner("(1,2),(3,4)<|box_start|><|box_end|>") == "(1,2),(3,4)"
