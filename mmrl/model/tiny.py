"""Tiny randomly initialised Qwen2.5-VL models for tests, demos and benchmarks, built offline.

``init_tiny(DIR, size)`` writes a complete checkpoint that the normal loader reads with the hub
off: config and random weights (no download), a byte-level BPE tokenizer trained here in
milliseconds on the vocabulary of the built-in tasks (with Qwen-VL's special tokens and the
reasoning tags), a Qwen-VL chat template and a complete processor (image and video processor
configs, as ``AutoProcessor`` expects wherever torchvision is installed).

``size="text"`` writes a tiny text-only Qwen2 (``Qwen2ForCausalLM``, head_dim 64: vLLM's CPU
attention kernels refuse the VLM sizes' head_dim of 16) with the same tokenizer and template, for
text prompts with any backend, vLLM's CPU build included.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mmrl.errors import ConfigError

# Qwen2.5-VL's special tokens (control tokens; removed when decoding with skip_special_tokens).
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]
# Reasoning-format tags: ordinary added tokens, so they survive decoding into the response text.
FORMAT_TOKENS = ["<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>", "<|end_of_box|>"]


@dataclass(frozen=True)
class TinySize:
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vision_depth: int
    vision_hidden: int
    vision_heads: int

    @property
    def mrope_section(self) -> list[int]:
        """Qwen-VL splits half the head dimension over (time, height, width) as 1:1.5:1.5."""
        half = self.hidden // self.heads // 2
        t = half // 4
        h = (half - t) // 2
        return [t, h, half - t - h]


SIZES = {
    "xs": TinySize(vocab=512, hidden=32, layers=2, heads=2, kv_heads=1, intermediate=64,
                   vision_depth=1, vision_hidden=32, vision_heads=2),
    "s": TinySize(vocab=2048, hidden=192, layers=6, heads=4, kv_heads=2, intermediate=768,
                  vision_depth=2, vision_hidden=128, vision_heads=4),
    "m": TinySize(vocab=4096, hidden=256, layers=6, heads=4, kv_heads=2, intermediate=1024,
                  vision_depth=4, vision_hidden=256, vision_heads=4),
}
# Text-only tiny models (no vision fields used).
TEXT_SIZES = {
    "text": TinySize(vocab=512, hidden=128, layers=2, heads=2, kv_heads=1, intermediate=256,
                     vision_depth=0, vision_hidden=0, vision_heads=0),
}

# Image bounds of the tiny models: 4 to 256 image tokens (28x28 pixels each).
TINY_MIN_PIXELS = 4 * 28 * 28
TINY_MAX_PIXELS = 256 * 28 * 28


def _corpus() -> list[str]:
    """Text the tokenizer learns merges from: the built-in tasks' words, digits and tags."""
    from mmrl.data.synth.shapes import COLORS, SHAPES
    from mmrl.data.synth.tasks import WORDS

    words = list(COLORS) + list(SHAPES) + [s + "s" for s in SHAPES] + list(WORDS)
    lines = [
        "How many shapes are in the image? What colour is the shape? What kind of shape is shown?",
        "What text is written in the image? What is the value of the expression in the image?",
        "Locate the shape. Answer with its bounding box [x1, y1, x2, y2] in pixels.",
        "Detect every shape. Answer with a JSON list of {\"label\": \"red circle\", \"box\": [1, 2, 3, 4]}.",
        "I look for the shapes and find them. The image shows the text. The expression is. Step 1: Step 2:",
        "The answer is A. The answer is B. Choices: (A) (B) (C) (D) so the answer is",
        "Please reason step by step, and put your final answer within the answer tags.",
        " ".join(words), " ".join(w.capitalize() for w in words),
        " ".join(str(i) for i in range(200)), "+ - * / = × ÷ ( ) [ ] { } , . : ; ! ? \" ' % $ # & _ < > ^ \\",
        "the a an of to in is it that and for on with as are was this be by from at or",
    ]
    return lines * 3


def build_tokenizer(vocab_size: int):
    """Train a byte-level BPE tokenizer in-process and wrap it for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(FORMAT_TOKENS),
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=32768,
        padding_side="left",
    )
    wrapped.add_tokens(FORMAT_TOKENS, special_tokens=False)
    return wrapped


def chat_template() -> str:
    return resources.files("mmrl.model").joinpath("templates/qwen_vl_chat.jinja").read_text(encoding="utf-8")


def special_ids(tokenizer) -> dict[str, int]:
    """The ids of the generation config's end and pad tokens, and of the image tokens."""
    return {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}


def build_config(size: TinySize, tokenizer):
    from transformers import Qwen2_5_VLConfig

    ids = special_ids(tokenizer)
    common = dict(eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], bos_token_id=None)
    text = dict(
        vocab_size=len(tokenizer), hidden_size=size.hidden, intermediate_size=size.intermediate,
        num_hidden_layers=size.layers, num_attention_heads=size.heads, num_key_value_heads=size.kv_heads,
        max_position_embeddings=8192, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "mrope_section": size.mrope_section, "rope_theta": 10000.0},
        **common,
    )
    vision = dict(
        depth=size.vision_depth, hidden_size=size.vision_hidden, intermediate_size=size.vision_hidden * 2,
        num_heads=size.vision_heads, out_hidden_size=size.hidden, patch_size=14, spatial_merge_size=2,
        temporal_patch_size=2, window_size=112, fullatt_block_indexes=[size.vision_depth - 1],
    )
    return Qwen2_5_VLConfig(
        text_config=text, vision_config=vision, tie_word_embeddings=True,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        **common,
    )


def build_text_config(size: TinySize, tokenizer):
    from transformers import Qwen2Config

    ids = special_ids(tokenizer)
    return Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=size.hidden, intermediate_size=size.intermediate,
        num_hidden_layers=size.layers, num_attention_heads=size.heads, num_key_value_heads=size.kv_heads,
        max_position_embeddings=8192, tie_word_embeddings=True, eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"], bos_token_id=None,
    )


def generation_config(tokenizer):
    """Sampling defaults of every tiny model; the end tokens from the tokenizer (some transformers
    versions keep ``eos_token_id`` only on a VLM's text config, not on the top-level config)."""
    from transformers import GenerationConfig

    ids = special_ids(tokenizer)
    return GenerationConfig(eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]], pad_token_id=ids["<|endoftext|>"],
                            do_sample=True, temperature=1.0, top_p=1.0, top_k=0)


def video_processor_config(image_processor) -> dict:
    """``video_preprocessor_config.json`` of a Qwen2-VL processor, from its image processor's
    settings (pixel bounds included): written as JSON because building the video processor needs
    torchvision, which a CPU machine may lack."""
    settings = image_processor.to_dict()
    size = dict(settings["size"])
    return {
        "video_processor_type": "Qwen2VLVideoProcessor", "processor_class": "Qwen2_5_VLProcessor",
        "do_resize": True, "do_rescale": True, "do_normalize": True, "do_convert_rgb": True,
        "do_sample_frames": False, "rescale_factor": settings["rescale_factor"],
        "image_mean": list(settings["image_mean"]), "image_std": list(settings["image_std"]),
        "patch_size": settings["patch_size"], "temporal_patch_size": settings["temporal_patch_size"],
        "merge_size": settings["merge_size"], "size": size,
        "min_pixels": size["shortest_edge"], "max_pixels": size["longest_edge"],
    }


def init_tiny(out_dir: str | Path, size: str = "xs", seed: int = 0) -> dict:
    """Write a tiny random checkpoint (Qwen2.5-VL, or Qwen2 for ``size="text"``) to ``out_dir``;
    returns a summary."""
    import json

    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor, Qwen2ForCausalLM
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from transformers.utils import logging as hf_logging

    from mmrl.model.loading import quiet_accelerator_probe
    from mmrl.model.processor import image_only

    hf_logging.disable_progress_bar()
    quiet_accelerator_probe()
    if size not in SIZES and size not in TEXT_SIZES:
        raise ConfigError(f"unknown tiny size {size!r}; choose one of {', '.join([*SIZES, *TEXT_SIZES])}")
    text_only = size in TEXT_SIZES
    spec = TEXT_SIZES[size] if text_only else SIZES[size]
    out = Path(out_dir)
    t0 = time.perf_counter()
    tokenizer = build_tokenizer(spec.vocab)
    tok_seconds = time.perf_counter() - t0
    torch.manual_seed(seed)
    if text_only:
        model = Qwen2ForCausalLM(build_text_config(spec, tokenizer)).eval()
    else:
        model = Qwen2_5_VLForConditionalGeneration(build_config(spec, tokenizer)).eval()
    model.generation_config = generation_config(tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    if text_only:
        tokenizer.chat_template = chat_template()
        tokenizer.save_pretrained(out)
    else:
        image_processor = Qwen2VLImageProcessorPil(
            min_pixels=TINY_MIN_PIXELS, max_pixels=TINY_MAX_PIXELS, patch_size=14, merge_size=2,
            temporal_patch_size=2,
        )
        processor = image_only(Qwen2_5_VLProcessor)(
            image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template()
        )
        processor.save_pretrained(out)
        (out / "video_preprocessor_config.json").write_text(
            json.dumps(video_processor_config(image_processor), indent=2) + "\n", encoding="utf-8")
    return {
        "path": str(out),
        "size": size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(tokenizer),
        "tokenizer_seconds": tok_seconds,
    }
