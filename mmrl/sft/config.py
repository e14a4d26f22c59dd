"""The settings of a warm-up SFT run: one dataclass mirroring ``mmrl warmup-sft``'s flags."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mmrl.errors import ConfigError

TRUNCATION_POLICIES = ("error", "truncate", "drop")


@dataclass
class SFTConfig:
    """Everything ``train`` needs; the CLI fills it from flags and the recipe.

    ``batch_size`` is the micro-batch of one process; an optimizer step sees
    ``batch_size * grad_accum * world_size`` examples (the global batch), whatever the number of
    processes, so a run on two processes and one on a single process with twice the accumulation
    take the same steps.
    """

    model: str
    data: str
    out: str
    split: str | None = None                    # of a --data folder with several
    columns: dict[str, str] | None = None       # sample field -> column (mmrl.io.columns)
    # schedule
    epochs: float = 1.0
    max_steps: int | None = None
    lr: float = 1e-5
    scheduler: str = "cosine"
    warmup_ratio: float = 0.0
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    max_grad_norm: float | None = 1.0
    # batching
    batch_size: int = 1
    grad_accum: int = 1
    packing: bool = False
    max_length: int = 4096
    truncation: str = "error"
    seed: int = 0
    # prompt (as rollout builds it): instruction None is rollout's default, "" none
    system: str | None = None
    instruction: str | None = None
    cot_pool: bool = False
    # model
    dtype: str = "auto"
    device: str = "auto"
    attn_implementation: str | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"
    merge_lora: bool = False
    freeze_vision: bool = False
    freeze_projector: bool = False
    gradient_checkpointing: bool = False
    # curation
    filter: bool = False
    filter_max_repeat: float = 0.1
    # outputs and scale
    save_steps: int | None = None
    save_total_limit: int | None = 2
    resume: bool = False
    overwrite: bool = False
    log_steps: int = 1
    tensorboard: bool = False
    deepspeed: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.adam_betas = tuple(float(b) for b in self.adam_betas)  # type: ignore[assignment]
        self.validate()

    def validate(self) -> None:
        checks = [
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.grad_accum >= 1, "--grad-accum must be at least 1"),
            (self.epochs > 0, "--epochs must be positive"),
            (self.max_steps is None or self.max_steps >= 1, "--max-steps must be at least 1"),
            (self.lr > 0, "--lr must be positive"),
            (0.0 <= self.warmup_ratio < 1.0, "--warmup-ratio must be in [0, 1)"),
            (0.0 <= self.min_lr_ratio <= 1.0, "--min-lr-ratio must be in [0, 1]"),
            (self.max_length >= 8, "--max-length must be at least 8 tokens"),
            (self.truncation in TRUNCATION_POLICIES,
             f"--truncation must be one of {', '.join(TRUNCATION_POLICIES)}, got {self.truncation!r}"),
            (self.save_steps is None or self.save_steps >= 1, "--save-steps must be at least 1"),
            (self.save_total_limit is None or self.save_total_limit >= 1, "--save-total-limit must be at least 1"),
            (self.log_steps >= 1, "--log-steps must be at least 1"),
            (not self.merge_lora or self.lora, "--merge-lora needs --lora"),
            (self.lora_r >= 1, "--lora-r must be at least 1"),
            (0.0 <= self.filter_max_repeat <= 1.0, "--filter-max-repeat must be in [0, 1]"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d
