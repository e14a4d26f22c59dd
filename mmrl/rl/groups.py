"""A step's groups: G responses to one prompt with their rewards, and the batch they form.

``Group`` is what the rollout and reward stages produce for one prompt; ``StepBatch`` lays the
kept groups out as the tensors the loss needs (rows in group order: prompt 0's G responses,
then prompt 1's, ...). Keeping the prompts beside the tensors lets every log-prob pass run each
prompt (its image and text) once for its whole group.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from mmrl.rewards.scoring import counted_accuracy
from mmrl.rollout.types import Completion, Prompt


@dataclass
class Group:
    """One prompt, its G completions and their scored rollout records."""

    index: int                     # position of the sample in the training data
    prompt: Prompt
    completions: list[Completion]
    records: list[dict[str, Any]] = field(default_factory=list)  # scored, SPEC section 3

    @property
    def source(self) -> str:
        return str(self.prompt.sample.get("source") or "default")

    @property
    def rewards(self) -> list[float]:
        return [float(r["rewards"]["total"]) for r in self.records]

    @property
    def accuracies(self) -> list[float]:
        return [counted_accuracy(r) for r in self.records]

    @property
    def finite(self) -> bool:
        return all(math.isfinite(x) for x in self.rewards)


@dataclass
class StepBatch:
    """The kept groups of a step as row tensors; ``R`` rows, responses right-padded to ``T``."""

    groups: list[Group]
    responses: list[list[int]]
    loss_mask: torch.Tensor        # (R, T) 1 on sampled tokens that carry loss
    rewards: torch.Tensor          # (R,) the reward the advantage is computed from
    group_ids: torch.Tensor        # (R,) group of each row
    advantages: torch.Tensor | None = None
    old_logp: torch.Tensor | None = None
    ref_logp: torch.Tensor | None = None
    rollout_logp: torch.Tensor | None = None  # (R, T) the engine's log-probs of its samples, when it gave them

    @property
    def sizes(self) -> list[int]:
        return [len(g.completions) for g in self.groups]

    @property
    def prompts(self) -> list[Prompt]:
        return [g.prompt for g in self.groups]

    def rows_of(self, group_indices: Sequence[int]) -> list[int]:
        """Row indices of the given groups, in that order."""
        starts = [0]
        for n in self.sizes:
            starts.append(starts[-1] + n)
        return [r for g in group_indices for r in range(starts[g], starts[g + 1])]


def build_batch(groups: list[Group], rewards: Sequence[float], overlong_filter: bool = False) -> StepBatch:
    """Lay groups out as rows. ``rewards`` (one per row) may differ from the records' totals
    (overlong penalty). With ``overlong_filter`` a response cut at the token limit carries no loss."""
    responses, masks, group_ids = [], [], []
    for g_index, group in enumerate(groups):
        for comp in group.completions:
            responses.append(list(comp.token_ids))
            mask = comp.sampled_mask()
            if overlong_filter and comp.finish_reason == "length":
                mask = [0] * len(mask)
            masks.append(mask)
            group_ids.append(g_index)
    width = max([len(r) for r in responses] + [1])
    loss_mask = torch.zeros(len(responses), width)
    for i, m in enumerate(masks):
        if m:
            loss_mask[i, : len(m)] = torch.tensor(m, dtype=torch.float32)
    return StepBatch(groups, responses, loss_mask, torch.tensor(list(rewards), dtype=torch.float32),
                     torch.tensor(group_ids, dtype=torch.long), rollout_logp=engine_logprobs(groups, width))


def engine_logprobs(groups: list[Group], width: int) -> torch.Tensor | None:
    """The rollout engine's log-prob of every sampled token (R, T), 0 on padding and on tokens it
    gave none for (forced ones, NaN); None unless every response came with its log-probs."""
    comps = [c for g in groups for c in g.completions]
    if not comps or any(c.logprobs is None for c in comps):
        return None
    out = torch.zeros(len(comps), width)
    for i, c in enumerate(comps):
        if c.logprobs:
            out[i, : len(c.logprobs)] = torch.tensor(c.logprobs, dtype=torch.float32)
    return torch.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def overlong_penalty(num_tokens: int, max_new_tokens: int, buffer: float, factor: float) -> float:
    """DAPO's soft overlong punishment: 0 up to ``max - buffer*max`` tokens, then falling linearly
    to ``-factor`` at ``max_new_tokens`` (``buffer`` is a share of ``max_new_tokens``; 0 = off)."""
    width = buffer * max_new_tokens
    if width <= 0:
        return 0.0
    start = max_new_tokens - width
    if num_tokens <= start:
        return 0.0
    return -factor * min(1.0, (num_tokens - start) / width)
