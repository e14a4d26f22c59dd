"""Which examples each optimizer step and each process sees: a pure function of the step.

The data is an endless stream of epochs, each a fresh permutation drawn from ``(seed, epoch)``;
step k takes the next ``global_batch`` items of the stream. Nothing depends on state carried
between steps, so the data position of a resumed run is just its step number, batches are always
full (the last one of an epoch borrows from the next), and no record is ever skipped.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=4)
def epoch_order(n: int, seed: int, epoch: int) -> tuple[int, ...]:
    order = list(range(n))
    random.Random(f"mmrl-sft:{seed}:{epoch}").shuffle(order)
    return tuple(order)


@dataclass(frozen=True)
class BatchPlan:
    n: int
    batch_size: int
    grad_accum: int = 1
    world_size: int = 1
    seed: int = 0

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.grad_accum * self.world_size

    def steps_for(self, epochs: float) -> int:
        """Optimizer steps that cover ``epochs`` passes over the data (rounded up)."""
        return max(1, math.ceil(epochs * self.n / self.global_batch - 1e-9))

    def epoch_at(self, steps_done: int) -> float:
        return steps_done * self.global_batch / self.n

    def global_indices(self, step: int) -> list[int]:
        """The example indices of step ``step`` (0-based), in stream order."""
        out = []
        for pos in range(step * self.global_batch, (step + 1) * self.global_batch):
            epoch, offset = divmod(pos, self.n)
            out.append(epoch_order(self.n, self.seed, epoch)[offset])
        return out

    def micro_batches(self, step: int, rank: int = 0) -> list[list[int]]:
        """The ``grad_accum`` micro-batches of one process: consecutive slices of the global batch.

        Micro-batch j of the global batch holds items ``j*B .. (j+1)*B``; process r runs
        ``j = r*A .. r*A + A - 1``, so one process with accumulation 2A and two processes with A
        run the very same micro-batches.
        """
        idx = self.global_indices(step)
        b, a = self.batch_size, self.grad_accum
        return [idx[(rank * a + j) * b:(rank * a + j + 1) * b] for j in range(a)]
