"""Settings of an online RL run (``mmrl grpo``) and the defaults each ``--algo`` brings.

``--algo`` only fills the settings a user left unset (``None``): the advantage estimator, clip
range, KL, loss aggregation, group filter and overlong handling of each published algorithm.
Any of them can be set explicitly and then wins. ``resolved()`` returns the config with every
default filled in; the trainer only ever sees a resolved config.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from mmrl.errors import ConfigError

LOSS_AGGS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm")
REPORT_TO = ("none", "tensorboard", "wandb")

# What each algorithm sets when the user does not (sources in docs/grpo.md).
ALGORITHMS: dict[str, dict[str, Any]] = {
    # DeepSeekMath GRPO: group-normalised advantages, k3 KL in the loss (beta 0.04), eps 0.2,
    # per-sequence averaging of token losses.
    "grpo": {"advantage": "grpo", "beta": 0.04, "kl_estimator": "k3", "clip_low": 0.2, "clip_high": 0.2,
             "loss_agg": "seq-mean-token-mean"},
    # Dr.GRPO (Liu et al. 2025): no std in the advantage, no length normalisation, no KL.
    "drgrpo": {"advantage": "drgrpo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2,
               "loss_agg": "seq-mean-token-sum-norm"},
    # RLOO (MM-Eureka): leave-one-out baseline, PPO clip 0.2, no KL, token-level averaging.
    "rloo": {"advantage": "rloo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2, "loss_agg": "token-mean"},
    # REINFORCE++ with a group baseline (verl's reinforce_plus_plus_baseline): batch-whitened.
    "reinforce_pp": {"advantage": "reinforce_pp", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2,
                     "loss_agg": "token-mean"},
    # DAPO (Yu et al. 2025): clip-higher 0.2/0.28, token-level loss, no KL, dynamic sampling
    # (drop groups whose rewards are all equal, refill), soft overlong punishment (last 20%).
    "dapo": {"advantage": "grpo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.28, "loss_agg": "token-mean",
             "group_filter": "nonconstant", "overlong_buffer": 0.2, "overlong_penalty": 1.0},
    # R1-VL StepGRPO: GRPO over StepRAR + StepRVR, k3 KL beta 0.04, G = 4, temperature 1.2.
    "stepgrpo": {"advantage": "stepgrpo", "beta": 0.04, "kl_estimator": "k3", "clip_low": 0.2, "clip_high": 0.2,
                 "loss_agg": "seq-mean-token-mean", "group_size": 4, "temperature": 1.2,
                 "verifier": "steprar", "weights": {"step_rar": 1.0, "step_rvr": 1.0}, "reward_spec": "config"},
}

# Defaults of the settings no algorithm (or the user) chose.
COMMON: dict[str, Any] = {
    "advantage": "grpo", "beta": 0.0, "kl_estimator": "k3", "clip_low": 0.2, "clip_high": 0.2,
    "loss_agg": "token-mean", "group_filter": "none", "overlong_buffer": 0.0, "overlong_penalty": 1.0,
    "group_size": 8, "temperature": 1.0, "verifier": "math", "weights": None, "reward_spec": "sample",
}


@dataclass
class GRPOConfig:
    """Every setting of ``mmrl grpo``; fields left ``None`` take the algorithm's default."""

    model: str
    data: str
    out: str
    algo: str = "grpo"
    split: str | None = None             # of a --data folder with several (a dataset, Parquet files)
    columns: dict[str, str] | None = None  # sample field -> column, for --data and --eval-data
    # --- the step
    group_size: int | None = None        # G: responses per prompt
    batch_size: int = 8                  # prompts per step (valid groups after filtering)
    mini_batch_size: int | None = None   # prompts per optimizer update (None: the whole batch)
    micro_batch_size: int | None = None  # prompts per forward/backward (None: the mini-batch)
    micro_batch_rows: int | None = None  # responses per forward/backward inside a micro-batch (prefix still once)
    ppo_epochs: int = 1
    max_steps: int = 100
    max_seconds: float | None = None     # time budget: no step starts that would likely end past it
    # --- optimizer
    lr: float = 1e-6
    scheduler: str = "constant"
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    # --- generation
    max_new_tokens: int = 512
    temperature: float | None = None
    top_p: float = 1.0
    top_k: int = 0
    think_budget: int | None = None      # forced answering (GLM-4.1V)
    answer_budget: int = 64
    # --- loss
    advantage: str | None = None
    beta: float | None = None
    kl_estimator: str | None = None
    clip_low: float | None = None
    clip_high: float | None = None
    dual_clip: float | None = None
    loss_agg: str | None = None
    entropy_coef: float = 0.0
    # --- sampling and filtering
    sampler: str = "uniform"             # uniform | curriculum (GLM-4.1V RLCS)
    difficulty_band: str | None = None   # offline keep band on `difficulty`, e.g. "0.01:0.99"
    group_filter: str | None = None      # none | nonconstant (DAPO) | accuracy_band (MM-Eureka online)
    accuracy_band: str = "0.1:0.9"
    oversample: bool = False             # EMA oversampling, expansion 1/(1 - invalid rate) (GLM-4.1V)
    max_refill: int = 4                  # extra draw rounds to fill a batch with valid groups
    overlong_filter: bool = False        # no loss on responses cut at max_new_tokens (DAPO)
    overlong_buffer: float | None = None # soft overlong penalty over the last share of max_new_tokens
    overlong_penalty: float | None = None
    # --- rewards (as `mmrl reward`); each sample's own `reward` spec still wins
    verifier: str | None = None
    weights: dict[str, float] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    format_mode: str = "strict"
    format_gate: bool = False
    reward_spec: str | None = None       # sample | config | merge: who wins over a sample's own spec
    reward_workers: int | None = None
    reward_timeout: float = 2.0
    # --- prompts (as `mmrl rollout`)
    system: str | None = None
    instruction: str | None = None
    cot_pool: bool = False
    max_prompt_length: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    # --- model
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_targets: str = "all-linear"
    merge_lora: bool = True
    freeze_vision: bool = False
    freeze_projector: bool = False
    device: str = "auto"
    dtype: str = "float32"
    gradient_checkpointing: bool = False # recompute activations in backward (the shared prefix works with it)
    deepspeed: str | None = None         # ZeRO config (recipes/deepspeed/zero{2,3}.json); launch with torchrun/deepspeed
    # --- run
    seed: int = 0
    eval_data: str | None = None
    eval_steps: int | None = None
    eval_max_new_tokens: int | None = None
    save_steps: int | None = None
    save_total_limit: int = 2
    resume: bool = False
    overwrite: bool = False
    report_to: str = "none"
    sample_steps: int = 10               # print and keep a sample response every K steps
    rollout_batch_rows: int = 64         # prompts x G decoded together
    rollout_backend: str = "hf"          # hf (shares the trained model) | vllm (colocated engine, GPU)
    vllm_gpu_memory_utilization: float = 0.3
    vllm_sleep_level: int = 1            # 0 never sleeps; 1 offloads weights to CPU, drops the KV cache; 2 drops both

    def resolved(self) -> GRPOConfig:
        """The config with the algorithm's defaults (then the common ones) filled in, checked."""
        if self.algo not in ALGORITHMS:
            raise ConfigError(f"unknown --algo {self.algo!r}; known: {', '.join(ALGORITHMS)}")
        fill = {**COMMON, **ALGORITHMS[self.algo]}
        cfg = replace(self, **{k: v for k, v in fill.items() if getattr(self, k) is None})
        cfg.check()
        return cfg

    def check(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")

        for name in ("group_size", "batch_size", "mini_batch_size", "micro_batch_size", "micro_batch_rows", "ppo_epochs",
                     "max_steps", "max_new_tokens", "sample_steps", "rollout_batch_rows"):
            positive(name)
        if self.mini_batch_size and self.mini_batch_size > self.batch_size:
            raise ConfigError(f"--mini-batch-size ({self.mini_batch_size}) exceeds --batch-size ({self.batch_size})")
        if self.loss_agg not in LOSS_AGGS:
            raise ConfigError(f"--loss-agg must be one of {', '.join(LOSS_AGGS)}, got {self.loss_agg!r}")
        if self.report_to not in REPORT_TO:
            raise ConfigError(f"--report-to must be one of {', '.join(REPORT_TO)}, got {self.report_to!r}")
        if self.rollout_backend not in ("hf", "vllm"):
            raise ConfigError(f"--rollout-backend must be hf or vllm, got {self.rollout_backend!r}")
        if self.rollout_backend == "vllm" and not self.max_prompt_length:
            raise ConfigError("--rollout-backend vllm needs --max-prompt-length: the colocated engine's KV cache "
                              "is sized for it plus the response budget, not the model's whole context")
        if self.vllm_sleep_level not in (0, 1, 2):
            raise ConfigError(f"--vllm-sleep-level must be 0, 1 or 2, got {self.vllm_sleep_level}")
        if self.sampler not in ("uniform", "curriculum"):
            raise ConfigError(f"--sampler must be uniform or curriculum, got {self.sampler!r}")
        if self.beta is not None and self.beta < 0:
            raise ConfigError(f"--beta must be >= 0, got {self.beta}")
        if self.clip_low is not None and not 0 <= self.clip_low < 1:
            raise ConfigError(f"--clip-low must be in [0, 1), got {self.clip_low}")
        if self.clip_high is not None and self.clip_high < 0:
            raise ConfigError(f"--clip-high must be >= 0, got {self.clip_high}")
        if self.dual_clip is not None and self.dual_clip <= 1:
            raise ConfigError(f"--dual-clip must be > 1 (Ye et al. use 3), got {self.dual_clip}")
        if self.overlong_buffer is not None and not 0 <= self.overlong_buffer < 1:
            raise ConfigError(f"--overlong-buffer is a share of --max-new-tokens in [0, 1), got {self.overlong_buffer}")
        if self.temperature is not None and self.temperature <= 0:
            raise ConfigError(f"--temperature must be > 0 for RL sampling, got {self.temperature}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ConfigError(f"--max-seconds must be > 0, got {self.max_seconds}")
        if self.eval_steps is not None and self.eval_data is None:
            raise ConfigError("--eval-steps needs --eval-data")
        parse_band(self.accuracy_band, "--accuracy-band")
        if self.difficulty_band is not None:
            parse_band(self.difficulty_band, "--difficulty-band")

    @property
    def mini_batch(self) -> int:
        return self.mini_batch_size or self.batch_size

    @property
    def micro_batch(self) -> int:
        return min(self.micro_batch_size or self.mini_batch, self.mini_batch)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def parse_band(text: str, flag: str) -> tuple[float, float]:
    """``"0.1:0.9"`` as ``(0.1, 0.9)`` with ``0 <= low <= high <= 1``."""
    low, sep, high = str(text).partition(":")
    try:
        lo, hi = float(low), float(high)
        if not sep or not 0.0 <= lo <= hi <= 1.0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{flag} must be LOW:HIGH with 0 <= LOW <= HIGH <= 1, got {text!r}") from None
    return lo, hi
