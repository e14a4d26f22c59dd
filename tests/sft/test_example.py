"""build_example: labels are exactly the assistant tokens; images, prompts and separators are masked."""
from __future__ import annotations

import pytest

from mmrl.sft import IGNORE_INDEX, SFTConfig, TooLong, build_example
from mmrl.sft.example import ExampleError


def _cfg(**kw):
    return SFTConfig.from_flags(model="m", data="d", out="o", **kw)


def _trained(example, processor) -> str:
    labels = example["labels"]
    return processor.tokenizer.decode(labels[labels != IGNORE_INDEX])


def test_labels_are_the_response_and_its_end_of_turn(synth_records, processor, synth_file):
    from pathlib import Path

    sample = synth_records[0]
    ex = build_example(sample, processor, _cfg(), Path(synth_file).parent)
    assert _trained(ex, processor) == sample["response"] + "<|im_end|>"


def test_every_token_before_the_response_is_masked_and_every_token_of_it_is_kept(synth_records, processor, synth_file):
    from pathlib import Path

    from mmrl.images import load_image
    from mmrl.sft.example import messages_of

    base = Path(synth_file).parent
    sample = synth_records[1]
    ex = build_example(sample, processor, _cfg(), base)
    prompt = processor.apply_chat_template(messages_of(sample, _cfg())[:-1], tokenize=False, add_generation_prompt=True)
    images = [load_image(r, base) for r in sample["images"]]
    n_prompt = processor(text=[prompt], images=images, return_tensors="pt")["input_ids"].shape[1]
    ids, labels = ex["input_ids"], ex["labels"]
    assert (labels[:n_prompt] == IGNORE_INDEX).all()
    # the response and <|im_end|> are trained; only the template's newline after it is not
    assert (labels[n_prompt:-1] == ids[n_prompt:-1]).all()
    assert processor.tokenizer.decode(ids[-1:]) == "\n" and labels[-1] == IGNORE_INDEX


def test_image_tokens_are_expanded_and_never_trained(synth_records, processor, synth_file):
    from pathlib import Path

    ex = build_example(synth_records[2], processor, _cfg(), Path(synth_file).parent)
    image = ex["input_ids"] == processor.image_token_id
    merge = processor.image_processor.merge_size
    assert int(image.sum()) == int(ex["image_grid_thw"].prod()) // merge**2 > 1
    assert (ex["labels"][image] == IGNORE_INDEX).all()
    assert ex["pixel_values"].shape[0] == int(ex["image_grid_thw"].prod())


def test_multi_turn_trains_every_assistant_turn_and_masks_the_user(processor):
    sample = {"id": "chat", "messages": [
        {"role": "user", "content": "What is 2 + 3?"},
        {"role": "assistant", "content": "<think>2 + 3 = 5</think><answer>5</answer>"},
        {"role": "user", "content": "And times 2?"},
        {"role": "assistant", "content": "<answer>10</answer>"},
    ]}
    ex = build_example(sample, processor, _cfg())
    assert _trained(ex, processor) == "<think>2 + 3 = 5</think><answer>5</answer><|im_end|><answer>10</answer><|im_end|>"


def test_the_prompt_carries_rollouts_format_instruction(synth_records, processor, synth_file):
    from pathlib import Path

    from mmrl.rollout.prompts import FORMAT_INSTRUCTION

    ex = build_example(synth_records[0], processor, _cfg(), Path(synth_file).parent)
    assert FORMAT_INSTRUCTION in processor.tokenizer.decode(ex["input_ids"])
    bare = build_example(synth_records[0], processor, _cfg(instruction=""), Path(synth_file).parent)
    assert FORMAT_INSTRUCTION not in processor.tokenizer.decode(bare["input_ids"])


def test_a_sample_without_a_response_is_refused_naming_the_field(processor):
    with pytest.raises(ExampleError) as e:
        build_example({"id": "x", "question": "Why?"}, processor, _cfg())
    assert e.value.field == "response"


def test_too_long_is_an_error_by_default(synth_records, processor, synth_file):
    from pathlib import Path

    with pytest.raises(TooLong, match="exceed --max-length 40"):
        build_example(synth_records[0], processor, _cfg(max_length=40), Path(synth_file).parent)


def test_truncation_cuts_to_max_length_and_keeps_the_start_of_the_response(synth_records, processor, synth_file):
    from pathlib import Path

    base = Path(synth_file).parent
    full = build_example(synth_records[0], processor, _cfg(), base)
    n = int(full["input_ids"].numel()) - 10
    cut = build_example(synth_records[0], processor, _cfg(max_length=n, truncation="truncate"), base)
    assert cut["input_ids"].numel() == n == cut["labels"].numel() == cut["mm_token_type_ids"].numel()
    assert (cut["labels"] == full["labels"][:n]).all()


def test_truncation_never_cuts_through_an_image(synth_records, processor, synth_file):
    from pathlib import Path

    with pytest.raises(TooLong, match="image"):
        build_example(synth_records[0], processor, _cfg(max_length=8, truncation="truncate"), Path(synth_file).parent)


def test_multi_turn_images_are_masked_and_every_assistant_turn_trained(processor, synth_records, synth_file):
    from pathlib import Path

    sample = {"id": "chat-img", "images": synth_records[0]["images"], "messages": [
        {"role": "user", "content": "Look: <image> What is the value?"},
        {"role": "assistant", "content": "<answer>12</answer>"},
        {"role": "user", "content": "Are you sure?"},
        {"role": "assistant", "content": "<think>9 - 6 + 9 = 12</think><answer>12</answer>"},
    ]}
    ex = build_example(sample, processor, _cfg(), Path(synth_file).parent)
    ids = ex["input_ids"].tolist()
    look = processor.tokenizer("Look:", add_special_tokens=False)["input_ids"]
    first_image = ids.index(processor.image_token_id)
    assert any(ids[i:i + len(look)] == look for i in range(first_image))  # the image sits at its mark
    assert (ex["labels"][ex["input_ids"] == processor.image_token_id] == IGNORE_INDEX).all()
    assert _trained(ex, processor) == "<answer>12</answer><|im_end|><think>9 - 6 + 9 = 12</think><answer>12</answer><|im_end|>"
