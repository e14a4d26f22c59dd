"""The settings of a warm-up SFT run: one dataclass mirroring ``mmrl warmup-sft``'s flags."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mmrl.errors import ConfigError
from mmrl.train.bounds import (
    COUNT,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    SEED,
    SHARE,
    Bound,
    check_bounds,
    check_device,
    check_pixels,
)

TRUNCATION_POLICIES = ("error", "truncate", "drop")


# The range of every numeric setting (mmrl.train.bounds), checked at start-up.
BOUNDS: dict[str, Bound] = {
    "epochs": POSITIVE, "max_steps": COUNT, "lr": POSITIVE, "warmup_ratio": SHARE, "min_lr_ratio": PROBABILITY,
    "weight_decay": NON_NEGATIVE, "adam_eps": POSITIVE, "max_grad_norm": NON_NEGATIVE, "batch_size": COUNT,
    "grad_accum": COUNT, "max_length": Bound(8, integer=True), "seed": SEED, "min_pixels": COUNT,
    "max_pixels": COUNT, "lora_r": COUNT, "lora_alpha": POSITIVE, "lora_dropout": SHARE,
    "filter_max_repeat": PROBABILITY, "save_steps": COUNT, "save_total_limit": COUNT, "log_steps": COUNT,
}


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
        check_bounds(self, BOUNDS)
        for name, beta in zip(("--adam-beta1", "--adam-beta2"), self.adam_betas):
            if not SHARE.holds(beta):
                raise ConfigError(f"{name} must be {SHARE.describe()}, got {beta!r}")
        check_pixels(self.min_pixels, self.max_pixels)
        check_device(self.device)
        checks = [
            (self.truncation in TRUNCATION_POLICIES,
             f"--truncation must be one of {', '.join(TRUNCATION_POLICIES)}, got {self.truncation!r}"),
            (not self.merge_lora or self.lora, "--merge-lora needs --lora"),
            (not (self.resume and self.overwrite), "--resume and --overwrite contradict each other: pass one of them"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d
