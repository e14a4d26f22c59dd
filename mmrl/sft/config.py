"""The settings of a warm-up SFT run, composed of the library's own specs (``mmrl.settings``).

``batch_size`` is the micro-batch of one process; an optimizer step sees
``batch_size * grad_accum * world_size`` examples (the global batch), whatever the number of
processes, so a run on two processes and one on a single process with twice the accumulation
take the same steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmrl.model.loading import ModelSpec
from mmrl.rollout.prompts import PromptConfig
from mmrl.settings import COUNT, POSITIVE, PROBABILITY, Bound, build, section, setting
from mmrl.train.distributed import OptimSpec
from mmrl.train.spec import DataSpec, RunSpec, TrainingConfig

TRUNCATION_POLICIES = ("error", "truncate", "drop")


@dataclass
class SFTBatchSpec:
    """What one optimizer step trains on, and how examples are laid out."""

    batch_size: int = setting(1, bound=COUNT, help="Examples per micro-batch on each process.")
    grad_accum: int = setting(1, bound=COUNT, help="Micro-batches per optimizer step on each process.")
    packing: bool = setting(False, off_flag="--padding", help="Pack each micro-batch into one padding-free row.")
    max_length: int = setting(4096, bound=Bound(8, integer=True), help="Most tokens of one example (images "
                                                                       "included).")
    truncation: str = setting("error", choices=TRUNCATION_POLICIES, help="Too-long examples: error, truncate or "
                                                                         "drop.")


@dataclass
class CurationSpec:
    """Which reference responses are trained on."""

    filter: bool = setting(False, help="Drop responses that break the format, mix languages or repeat blocks.")
    filter_max_repeat: float = setting(0.1, bound=PROBABILITY, help="--filter: most share of repeated 8-word "
                                                                    "n-grams kept.")


@dataclass
class SFTRunSpec(RunSpec):
    """The run: its length and logging, besides what every run has."""

    epochs: float = setting(1.0, bound=POSITIVE, help="Passes over the data (ignored with --max-steps).")
    max_steps: int | None = setting(None, bound=COUNT, help="Optimizer steps to run (overrides --epochs).")
    log_steps: int = setting(1, bound=COUNT, help="Write metrics every N steps.")
    tensorboard: bool = setting(False, help="Also log to OUT/tensorboard.")


@dataclass
class SFTConfig(TrainingConfig):
    """Every setting of ``mmrl warmup-sft``, as the library's specs."""

    model: ModelSpec = section(ModelSpec, help="The model")
    data: DataSpec = section(DataSpec, help="Training data")
    batch: SFTBatchSpec = section(SFTBatchSpec, help="Batching")
    optim: OptimSpec = section(OptimSpec, help="Optimizer")
    prompt: PromptConfig = section(PromptConfig, help="Prompts (as rollout builds them)")
    curation: CurationSpec = section(CurationSpec, help="Curation")
    run: SFTRunSpec = section(SFTRunSpec, help="The run")

    @classmethod
    def from_flags(cls, **flat: Any) -> SFTConfig:
        """The config of flat settings (flag keys, as the command line and recipes hold them), checked."""
        cfg = build(cls, flat)
        cfg.check()
        return cfg
