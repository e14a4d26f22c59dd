"""Padding and packing give the model the same sequences: packed loss equals padded loss."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mmrl.sft import IGNORE_INDEX, Collator, SFTConfig, build_example
from mmrl.sft.collate import rope_index_of
from mmrl.train.loss import nll_sum


@pytest.fixture(scope="module")
def examples(synth_records, processor, synth_file):
    cfg = SFTConfig.from_flags(model="m", data="d", out="o")
    return [build_example(r, processor, cfg, Path(synth_file).parent) for r in synth_records[:3]]


def test_padding_right_pads_ids_labels_and_mask(examples, processor):
    pad = processor.tokenizer.pad_token_id
    batch = Collator(pad)(examples)
    lengths = [int(e["input_ids"].numel()) for e in examples]
    assert batch["input_ids"].shape == (3, max(lengths))
    for row, n in enumerate(lengths):
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (max(lengths) - n)
        assert (batch["input_ids"][row, n:] == pad).all() and (batch["labels"][row, n:] == IGNORE_INDEX).all()
        assert (batch["input_ids"][row, :n] == examples[row]["input_ids"]).all()
    assert batch["pixel_values"].shape[0] == sum(e["pixel_values"].shape[0] for e in examples)
    assert batch["image_grid_thw"].shape == (3, 3)


def test_packing_makes_one_row_whose_positions_restart_per_sequence(examples):
    batch = Collator(0, packing=True)(examples)
    lengths = [int(e["input_ids"].numel()) for e in examples]
    assert batch["input_ids"].shape == (1, sum(lengths)) and "attention_mask" not in batch
    starts = [0, lengths[0], lengths[0] + lengths[1]]
    assert [int(batch["position_ids"][0, s]) for s in starts] == [0, 0, 0]
    assert all(int(batch["labels"][0, s]) == IGNORE_INDEX for s in starts)


def test_packed_loss_equals_padded_loss(examples, tiny_model_dir, processor):
    from mmrl.model.loading import load

    model = load(tiny_model_dir).model.eval()
    padded = Collator(processor.tokenizer.pad_token_id)(examples)
    packed = Collator(0, packing=True, rope_index=rope_index_of(model))(examples)
    assert packed["position_ids"].shape[0] == 4  # text positions + Qwen-VL's 3-D rotary positions
    with torch.no_grad():
        a, na = nll_sum(model(**{k: v for k, v in padded.items() if k != "labels"}, use_cache=False).logits,
                        padded["labels"])
        b, nb = nll_sum(model(**{k: v for k, v in packed.items() if k != "labels"}, use_cache=False).logits,
                        packed["labels"])
    assert na == nb
    assert torch.allclose(a, b, rtol=1e-5)
