"""The ranges of numeric training settings, checked at start-up before any model loads.

A setting outside its range (NaN and infinity included) would otherwise train silently wrong
(``--max-grad-norm -1`` flips the gradient), skip every update, or fail deep inside torch after
the model loaded. Each config class declares a ``BOUNDS`` table beside its fields; ``check_bounds``
reads it and names the flag in its message.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmrl.errors import ConfigError

SEED_MAX = 2**32 - 1  # NumPy's seeds are 32-bit
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class Bound:
    """``low <= value <= high`` (``<`` where open); a number, always finite."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not float(value).is_integer():
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{kind} {'<' if self.high_open else '<='} {self.high:g}"
        return kind


ANY = Bound()
POSITIVE = Bound(0, low_open=True)
NON_NEGATIVE = Bound(0)
SHARE = Bound(0, 1, high_open=True)          # a share of something, below the whole
PROBABILITY = Bound(0, 1)
COUNT = Bound(1, integer=True)               # at least one
NON_NEGATIVE_COUNT = Bound(0, integer=True)
SEED = Bound(0, SEED_MAX, integer=True)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_bounds(cfg: Any, bounds: Mapping[str, Bound]) -> None:
    """Raise ConfigError for the first setting of ``cfg`` outside its bound (``None`` is unset)."""
    for name, bound in bounds.items():
        value = getattr(cfg, name)
        if value is not None and not bound.holds(value):
            raise ConfigError(f"{flag(name)} must be {bound.describe()}, got {value!r}")


def check_pixels(min_pixels: int | None, max_pixels: int | None) -> None:
    if min_pixels is not None and max_pixels is not None and min_pixels > max_pixels:
        raise ConfigError(f"--min-pixels ({min_pixels}) exceeds --max-pixels ({max_pixels})")


def check_device(device: str) -> None:
    """``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:N``; whether it is present is checked at load."""
    if not _DEVICE.match(device):
        raise ConfigError(f"--device must be auto, cpu, mps, cuda or cuda:N, got {device!r}")
