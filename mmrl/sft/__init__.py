"""Warm-up ("cold start") supervised fine-tuning on responses in the target reasoning format.

``SFTConfig`` declares ``mmrl warmup-sft``'s settings, ``build_example`` turns a SPEC.md sample
into input ids and labels that are -100 everywhere but the assistant tokens, ``Collator`` pads
or packs examples into batches, and ``train`` runs the whole thing and returns a ``RunResult``.
"""
from mmrl.sft.collate import Collator, pack_batch, pad_batch
from mmrl.sft.config import SFTConfig
from mmrl.sft.example import IGNORE_INDEX, ExampleError, TooLong, build_example
from mmrl.sft.trainer import train

__all__ = ["IGNORE_INDEX", "Collator", "ExampleError", "SFTConfig", "TooLong", "build_example", "pack_batch",
           "pad_batch", "train"]
