"""The settings of ``mmrl demo``: one dataclass, the embedded default and a seconds-long preset.

The default is chosen so that RL makes the model better on every seed, not on lucky ones
(measured on seeds 0-9: BENCHMARKS.md, ``benchmarks/demo_seeds.py``), within 300 s of one CPU core:

- the ``colour`` task of ``mmrl.data.synth.pixels``: one shape filling most of a 112 px image
  (16 image tokens), four answers, so chance is 1/4. With a shape a third to a half of the side
  GRPO found the colour on some seeds and not on others (seed 3: +0.0 points in 200 steps);
- warm-up SFT (80 steps, lr 3e-3) on the training samples with their answers shuffled among them
  (``warmup_data``): it teaches the ``<think>/<answer>`` form, and because its targets do not
  depend on the image it leaves the task at chance by construction. On the true answers SFT
  learned these images in about 50 steps itself and left RL nothing to show;
- GRPO with 8 prompts x 8 samples per step, 120 steps, lr 6e-4 warmed up over the first 10% of
  the steps, a k3 KL term to the SFT model (beta 0.1), one on-policy update, groups with equal
  rewards skipped, reward = accuracy + 0.5 x format (the samples' own reward spec). Without the
  KL term and the warm-up the answers drifted onto one colour within ten steps (seed 3: 42 of 64
  samples "blue" at step 10) and then swung between colours instead of following the image;
  lr 1e-3 swung even with them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from mmrl.errors import ConfigError


@dataclass
class DemoConfig:
    out: str = "runs/demo"
    seed: int = 0
    minutes: float | None = None       # time budget of the RL phase (it stops cleanly, then evaluates)
    # data
    tasks: str = "colour"
    image_size: int = 112
    n_train: int = 512
    n_test: int = 200
    # model
    size: str = "s"
    # warm-up SFT
    sft_steps: int = 80
    sft_lr: float = 3e-3
    sft_batch_size: int = 8
    # grade: draws per training prompt from the SFT model
    grade_n: int = 2
    # GRPO
    algo: str = "grpo"
    rl_steps: int = 120
    rl_lr: float = 6e-4
    rl_warmup_ratio: float = 0.1       # linear warm-up of the RL learning rate over this share of the steps
    group_size: int = 8
    batch_size: int = 8
    beta: float = 0.1
    # k3 KL per token, unclamped (1e9 is above any k3 value: its log-ratio is clamped to 20). The
    # default was measured so; grpo's own default clamp of 10 gave seed 4 +19.0 instead of +74.0
    kl_clamp: float = 1e9
    entropy_coef: float = 0.0
    max_new_tokens: int = 32
    temperature: float = 1.0
    # eval (greedy)
    eval_batch_size: int = 32
    # torch threads: a tiny model runs as fast on one, and on a shared CPU two threads stalled
    # GRPO steps from 0.4 s to 20 s (measured during a fresh-clone demo beside another job)
    threads: int = 1

    def check(self) -> None:
        for name in ("n_train", "n_test", "sft_steps", "rl_steps", "group_size", "batch_size", "grade_n",
                     "max_new_tokens", "eval_batch_size", "sft_batch_size", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"demo: {name} must be at least 1, got {getattr(self, name)}")
        if self.minutes is not None and not self.minutes > 0:
            raise ConfigError(f"--minutes must be > 0, got {self.minutes}")
        if not 0.0 <= self.rl_warmup_ratio < 1.0:
            raise ConfigError(f"demo: rl_warmup_ratio must be in [0, 1), got {self.rl_warmup_ratio}")
        if self.image_size < 28:
            raise ConfigError(f"demo: image_size must be at least 28 pixels, got {self.image_size}")

    @property
    def rl_seconds(self) -> float | None:
        return None if self.minutes is None else 60.0 * self.minutes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quick(out: str, seed: int = 0) -> DemoConfig:
    """A seconds-long run of the whole pipeline (tests): the xs model, a few samples and steps."""
    return replace(DemoConfig(out=out, seed=seed), size="xs", image_size=56, n_train=8, n_test=6, sft_steps=2,
                   grade_n=2, rl_steps=2, group_size=2, batch_size=2, max_new_tokens=8, eval_batch_size=8)
