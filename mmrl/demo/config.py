"""The settings of ``mmrl demo``: one dataclass, the embedded default and a seconds-long preset.

The default is chosen so that RL visibly makes the model better on a laptop-class CPU in minutes
(measured: BENCHMARKS.md, ``benchmarks/demo_seeds.py``):

- a task a tiny model can learn from pixels (``colour`` from ``mmrl.data.synth.pixels``), four
  answers, so chance is 1/4 and a gain is a gain; 112 px images (16 image tokens; at 56 px, 4
  tokens, the model does not learn colour at all). ``position`` and ``bigcount`` learn more
  slowly (measured: ``colour,position`` gained 13 and 3 points in 150 steps);
- a short warm-up SFT that teaches the ``<think>/<answer>`` form but leaves the tasks near
  chance (longer SFT learns the tasks itself and leaves RL nothing to show; shorter leaves
  temperature-1 samples garbled, so every reward is 0 and RL has nothing to learn from);
- GRPO with 8 prompts x 8 samples per step, lr 3e-4, one on-policy update, groups with equal
  rewards skipped, reward = accuracy + 0.5 x format (the synthesized samples' own reward spec).
  lr 5e-4 and 1e-3 collapse the groups to one answer (every group's rewards equal, nothing left
  to learn from); an entropy bonus (0.02) keeps them apart but garbles the thinking and gains no
  more.
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
