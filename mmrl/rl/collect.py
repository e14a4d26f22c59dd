"""The rollout and reward stages of a step: draw prompts, generate G responses each, score them,
keep the groups that carry a learning signal, and refill the batch when groups were dropped.

Dynamic sampling (DAPO) drops groups whose rewards are all equal, since their advantages are 0;
the online accuracy band (MM-Eureka) drops groups solved too rarely or too often; EMA
oversampling (GLM-4.1V) draws ``1 / (1 - invalid rate)`` times more prompts up front so that
fewer refill rounds are needed. Every drawn group updates the sampler's online pass rates.

On several processes (DeepSpeed) every process draws the same prompts (the samplers are seeded
alike and see the same updates), generates and scores its share of them (prompt ``i`` of a
round goes to process ``i % world``), and the shares are gathered, so that every process holds
the whole batch: filters, sampler updates and advantages are then the same everywhere. Draws
are seeded per prompt, so a prompt's responses do not depend on which process drew them.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mmrl.io.jsonl import Located
from mmrl.rl.groups import Group
from mmrl.rl.prompt_sampling import GROUP_FILTERS, OversampleEMA, PromptSampler, accuracy_band
from mmrl.rollout.prompts import PromptBuilder
from mmrl.rollout.records import rollout_record
from mmrl.rollout.types import SamplingParams

GroupFilter = Callable[[list[float], list[float]], bool]


@dataclass
class Collected:
    """The valid groups of one step and what it took to get them."""

    groups: list[Group]
    drawn: int = 0                 # groups generated (all rounds)
    valid: int = 0                 # of those, groups the filter kept
    rounds: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: {"rollout": 0.0, "reward": 0.0})
    all_groups: list[Group] = field(default_factory=list)  # every drawn group (for metrics)

    @property
    def valid_frac(self) -> float:
        return self.valid / self.drawn if self.drawn else 0.0


def make_group_filter(name: str, band: tuple[float, float]) -> GroupFilter:
    """The group filter named ``name``; ``accuracy_band`` keeps groups with mean accuracy in ``band``."""
    if name == "accuracy_band":
        return accuracy_band(*band)
    return GROUP_FILTERS.get(name)


class Collector:
    """Runs the rollout and reward stages for the trainer, step after step."""

    def __init__(self, items: list[Located], builder: PromptBuilder, backend: Any, scorer: Any,
                 sampler: PromptSampler, keep: GroupFilter, oversample: OversampleEMA | None,
                 max_refill: int, model_name: str, comm: Any = None):
        self.items, self.builder, self.backend, self.scorer = items, builder, backend, scorer
        self.sampler, self.keep, self.oversample = sampler, keep, oversample
        self.max_refill, self.model_name = max_refill, model_name
        self.comm = comm  # an engine (rank, all_gather_object) on several processes; None alone

    def generate(self, indices: list[int], params: SamplingParams) -> list[Group]:
        prompts = [self.builder.build(self.items[i]) for i in indices]
        completions = self.backend.generate(prompts, params)
        return [Group(i, p, list(c)) for i, p, c in zip(indices, prompts, completions)]

    def score(self, groups: list[Group], progress: float) -> None:
        """Score every completion through the reward pool; records land on their groups."""
        records = [rollout_record(g.prompt.sample, j, c, self.model_name)
                   for g in groups for j, c in enumerate(g.completions)]
        scored = self.scorer.score(records, progress=progress)
        at = 0
        for g in groups:
            g.records = scored[at:at + len(g.completions)]
            at += len(g.completions)

    def collect(self, batch_size: int, params: SamplingParams, progress: float) -> Collected:
        """Groups until ``batch_size`` of them are valid or the refill rounds run out."""
        out = Collected([])
        while len(out.groups) < batch_size and out.rounds <= self.max_refill:
            want = batch_size - len(out.groups)
            k = self.oversample.prompts_to_draw(want) if self.oversample is not None else want
            indices = self.sampler.draw(k)
            t0 = time.perf_counter()
            round_params = params if params.seed is None else _round_seed(params, out.rounds)
            if self.world > 1:
                mine = self.generate(indices[self.comm.info.rank::self.world], round_params)
                t1 = time.perf_counter()
                self.score(mine, progress)
                groups = self.share(indices, mine)
            else:
                groups = self.generate(indices, round_params)
                t1 = time.perf_counter()
                self.score(groups, progress)
            out.seconds["rollout"] += t1 - t0
            out.seconds["reward"] += time.perf_counter() - t1
            kept = []
            for g in groups:
                accs = g.accuracies
                self.sampler.update(g.index, sum(accs) / len(accs) if accs else 0.0)
                if g.finite and self.keep(g.rewards, accs):
                    kept.append(g)
            out.all_groups += groups
            out.drawn += len(groups)
            out.valid += len(kept)
            out.groups += kept
            out.rounds += 1
        if self.oversample is not None and out.drawn:  # once per step: the step's share of invalid groups
            self.oversample.update(1.0 - out.valid / out.drawn)
        out.groups = out.groups[:batch_size]  # surplus valid groups from oversampling are dropped
        return out

    @property
    def world(self) -> int:
        return self.comm.info.world_size if self.comm is not None else 1

    def share(self, indices: list[int], mine: list[Group]) -> list[Group]:
        """Every process's scored groups of a round, in draw order (prompt ``i`` came from process
        ``i % world``); the groups of other processes get their prompts built here."""
        shares = self.comm.all_gather_object([(g.completions, g.records) for g in mine])
        rank = self.comm.info.rank
        groups = []
        for pos, index in enumerate(indices):
            owner, slot = pos % self.world, pos // self.world
            if owner == rank:
                groups.append(mine[slot])
            else:
                completions, records = shares[owner][slot]
                groups.append(Group(index, self.builder.build(self.items[index]), completions, records))
        return groups


def _round_seed(params: SamplingParams, round_index: int) -> SamplingParams:
    """Refill rounds draw with their own seed, so a prompt drawn twice in a step gets new samples."""
    from dataclasses import replace

    return params if round_index == 0 else replace(params, seed=params.seed * 31 + round_index)
