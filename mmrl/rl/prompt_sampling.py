"""Which prompts a step draws, which scored groups it keeps, and how many prompts it oversamples.

Samplers return indices into the prompt data set. Each is deterministic given its seed and has
``state_dict()`` / ``load_state_dict()`` with plain JSON values, so a checkpoint's
``trainer_state.json`` holds them and a resumed run draws exactly what an unbroken one would.
Randomness is derived from ``(seed, counter)`` (as in ``mmrl.sft.schedule``), so the counter is
the whole random state. Pure Python: importing this module does not load torch.
"""
from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from mmrl.errors import ConfigError
from mmrl.registry import Registry


@runtime_checkable
class PromptSampler(Protocol):
    """Draws prompt indices for each step and learns from how the drawn prompts scored."""

    def draw(self, k: int) -> list[int]:
        """The next ``k`` prompt indices."""
        ...

    def update(self, index: int, pass_rate: float) -> None:
        """Record the pass rate (mean accuracy, in [0, 1]) of a scored group of prompt ``index``."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, d: dict[str, Any]) -> None: ...


def _check_resume(sampler: str, state: dict[str, Any], **expected: Any) -> None:
    for key, want in expected.items():
        if state.get(key) != want:
            raise ConfigError(f"cannot resume the {sampler} sampler: its {key} was {state.get(key)!r}, "
                              f"now {want!r} (a different data set or seed?)")


def _check_k(k: int) -> None:
    if k < 0:
        raise ValueError(f"cannot draw {k} prompts")


class UniformSampler:
    """Epochs of a seeded permutation: every item once per epoch, none repeated or skipped.

    Draws continue where the last one stopped; a draw that runs past the end of an epoch takes
    the rest from the next epoch's permutation. The state is the position in that stream.
    """

    def __init__(self, n_items: int, seed: int = 0):
        if n_items <= 0:
            raise ConfigError("the prompt set is empty")
        self.n_items, self.seed = n_items, seed
        self.epoch, self.pos = 0, 0
        self._order: list[int] | None = None

    def _epoch_order(self) -> list[int]:
        if self._order is None:
            order = list(range(self.n_items))
            random.Random(f"mmrl-rl-uniform:{self.seed}:{self.epoch}").shuffle(order)
            self._order = order
        return self._order

    def draw(self, k: int) -> list[int]:
        _check_k(k)
        out: list[int] = []
        while len(out) < k:
            take = min(k - len(out), self.n_items - self.pos)
            out.extend(self._epoch_order()[self.pos:self.pos + take])
            self.pos += take
            if self.pos == self.n_items:
                self.epoch, self.pos, self._order = self.epoch + 1, 0, None
        return out

    def update(self, index: int, pass_rate: float) -> None:
        """Uniform sampling learns nothing from scores."""

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "uniform", "n_items": self.n_items, "seed": self.seed, "epoch": self.epoch,
                "pos": self.pos}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        _check_resume("uniform", d, kind="uniform", n_items=self.n_items, seed=self.seed)
        self.epoch, self.pos, self._order = int(d["epoch"]), int(d["pos"]), None


def difficulty_band(difficulties: Sequence[float | None], low: float, high: float, *,
                    strict: bool = False, keep_unknown: bool = True) -> list[int]:
    """Indices of the items whose offline difficulty lies in the band, in order.

    ``difficulties`` come from ``mmrl grade`` (0 = always solved, 1 = never solved). The band is
    closed, ``low <= d <= high``, or open with ``strict=True``, ``low < d < high``: MM-Eureka's
    filter, drop the prompts that are always or never solved, is ``(0, 1, strict=True)``.
    Ungraded items (``None``) are kept by default, as nothing says they are out of the band;
    ``keep_unknown=False`` drops them.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise ConfigError(f"difficulty band needs 0 <= low <= high <= 1, got {low}, {high}")
    keep = []
    for i, d in enumerate(difficulties):
        if d is None:
            ok = keep_unknown
        else:
            ok = low < d < high if strict else low <= d <= high
        if ok:
            keep.append(i)
    return keep


WeightFn = Callable[[float], float]
CURRICULUM_WEIGHTS: Registry[WeightFn] = Registry("curriculum weight")
"""Sampling weight of a prompt from its estimated pass rate p: ``fn(p) -> w > 0``."""

WEIGHT_FLOOR = 0.05
"""The least weight a prompt gets: a prompt whose estimate reads "always solved" must still be
drawn now and then, or its estimate could never change."""


@CURRICULUM_WEIGHTS.register("variance")
def variance_weight(p: float) -> float:
    """``max(0.05, 4 p (1 - p))``: the variance of a 0/1 reward with pass rate p, scaled to 1 at
    p = 0.5. Prompts the policy always or never solves give groups with equal rewards and no
    gradient, so they are drawn least."""
    return max(WEIGHT_FLOOR, 4.0 * p * (1.0 - p))


@CURRICULUM_WEIGHTS.register("band")
def band_weight(p: float) -> float:
    """1 inside ``0.1 <= p <= 0.9`` (MM-Eureka's online band), the floor 0.05 outside it."""
    return 1.0 if 0.1 <= p <= 0.9 else WEIGHT_FLOOR


@CURRICULUM_WEIGHTS.register("uniform")
def uniform_weight(p: float) -> float:
    """1 for every prompt: no curriculum, pass rates still tracked."""
    return 1.0


class CurriculumSampler:
    """RLCS (GLM-4.1V-Thinking): draw prompts weighted by how useful their difficulty is now.

    Each prompt carries an estimated pass rate. It starts from the offline difficulty
    (``pass = 1 - difficulty``; 0.5 when unknown) and follows the online pass rates by an
    exponential moving average, ``p <- ema * p + (1 - ema) * pass_rate``, so ``ema`` is the weight
    kept by the old estimate. A prompt's sampling weight is ``weight_fn(p)`` (a name in
    ``CURRICULUM_WEIGHTS`` or a function; default ``variance``), which down-weights prompts that
    are too easy (p near 1) or too hard (p near 0).

    ``draw(k)`` takes k distinct prompts with probability proportional to weight (weighted
    sampling without replacement, Efraimidis and Spirakis 2006); k above the number of prompts
    is drawn in rounds, each without replacement. The randomness of draw j comes from
    ``(seed, j)``, so the state is the pass rates and the draw counter.
    """

    def __init__(self, difficulties: Sequence[float | None], seed: int = 0, *, ema: float = 0.7,
                 weight_fn: str | WeightFn = "variance"):
        if not difficulties:
            raise ConfigError("the prompt set is empty")
        if not 0.0 <= ema < 1.0:
            raise ConfigError(f"curriculum ema must be in [0, 1), got {ema}")
        self.seed, self.ema = seed, ema
        self.weight_fn = CURRICULUM_WEIGHTS.get(weight_fn) if isinstance(weight_fn, str) else weight_fn
        self.pass_rates = [0.5 if d is None else 1.0 - float(d) for d in difficulties]
        self.draws = 0

    @property
    def n_items(self) -> int:
        return len(self.pass_rates)

    def weights(self) -> list[float]:
        """The current sampling weight of every prompt."""
        return [self.weight_fn(p) for p in self.pass_rates]

    def draw(self, k: int) -> list[int]:
        _check_k(k)
        rng = random.Random(f"mmrl-rl-curriculum:{self.seed}:{self.draws}")
        self.draws += 1
        out: list[int] = []
        while len(out) < k:
            # Efraimidis-Spirakis: the k largest keys u^(1/w), taken as log(u)/w, are a weighted
            # sample without replacement; a weight of 0 is drawn only once all others are.
            keys = [math.log(1.0 - rng.random()) / w if w > 0 else -math.inf for w in self.weights()]
            out.extend(heapq.nlargest(min(k - len(out), self.n_items), range(self.n_items),
                                      key=keys.__getitem__))
        return out

    def update(self, index: int, pass_rate: float) -> None:
        if not 0.0 <= pass_rate <= 1.0:
            raise ValueError(f"pass rate must be in [0, 1], got {pass_rate}")
        p = self.pass_rates[index]
        self.pass_rates[index] = self.ema * p + (1.0 - self.ema) * pass_rate

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "curriculum", "n_items": self.n_items, "seed": self.seed, "draws": self.draws,
                "pass_rates": list(self.pass_rates)}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        _check_resume("curriculum", d, kind="curriculum", n_items=self.n_items, seed=self.seed)
        self.draws = int(d["draws"])
        self.pass_rates = [float(p) for p in d["pass_rates"]]


GroupFilter = Callable[[list[float], list[float]], bool]
GROUP_FILTERS: Registry[GroupFilter] = Registry("group filter")
"""Keep a scored group? ``fn(rewards, accuracies) -> bool``, one value per response of the group."""


@GROUP_FILTERS.register("none")
def keep_all(rewards: list[float], accuracies: list[float]) -> bool:
    """Keep every group."""
    return True


@GROUP_FILTERS.register("nonconstant")
def nonconstant(rewards: list[float], accuracies: list[float]) -> bool:
    """DAPO's dynamic sampling (Yu et al. 2025): drop a group whose rewards are all equal.

    Such a group has advantage 0 on every response and adds no gradient, only dilution.
    """
    return len(rewards) > 0 and max(rewards) != min(rewards)


def accuracy_band(lo: float, hi: float) -> GroupFilter:
    """A filter keeping groups whose mean accuracy is in ``[lo, hi]`` (MM-Eureka's online variant).

    ``accuracy_band`` is also registered with MM-Eureka's band, [0.1, 0.9].
    """
    if not 0.0 <= lo <= hi <= 1.0:
        raise ConfigError(f"accuracy band needs 0 <= lo <= hi <= 1, got {lo}, {hi}")

    def keep(rewards: list[float], accuracies: list[float]) -> bool:
        return len(accuracies) > 0 and lo <= sum(accuracies) / len(accuracies) <= hi

    keep.__doc__ = f"Keep groups with mean accuracy in [{lo}, {hi}]."
    return keep


GROUP_FILTERS.add("accuracy_band", accuracy_band(0.1, 0.9))


class OversampleEMA:
    """GLM-4.1V's dynamic oversampling: draw more prompts when more groups will be filtered out.

    After each step, ``update(invalid_rate)`` folds the share of dropped groups into an
    exponential moving average, ``r <- alpha * r + (1 - alpha) * invalid_rate``, from r = 0.
    The next step draws ``expansion = 1 / (1 - r)`` times the batch, clamped to
    ``[1, max_expansion]``, so that about ``batch_size`` valid groups remain.
    """

    def __init__(self, alpha: float = 0.9, max_expansion: float = 4.0):
        if not 0.0 <= alpha < 1.0:
            raise ConfigError(f"oversampling alpha must be in [0, 1), got {alpha}")
        if max_expansion < 1.0:
            raise ConfigError(f"max expansion must be at least 1, got {max_expansion}")
        self.alpha, self.max_expansion = alpha, max_expansion
        self.rate = 0.0

    def update(self, invalid_rate: float) -> None:
        if not 0.0 <= invalid_rate <= 1.0:
            raise ValueError(f"invalid rate must be in [0, 1], got {invalid_rate}")
        self.rate = self.alpha * self.rate + (1.0 - self.alpha) * invalid_rate

    def expansion(self) -> float:
        if self.rate >= 1.0:
            return self.max_expansion
        return min(self.max_expansion, max(1.0, 1.0 / (1.0 - self.rate)))

    def prompts_to_draw(self, batch_size: int) -> int:
        """``ceil(batch_size * expansion())``, ignoring float noise of 1e-9 (8 * 1.25 is 10)."""
        return math.ceil(batch_size * self.expansion() - 1e-9)

    def state_dict(self) -> dict[str, Any]:
        return {"rate": self.rate}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.rate = float(d["rate"])
