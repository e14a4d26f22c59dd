"""Accuracy bands (which prompts to keep) and named difficulty levels (buckets)."""
from __future__ import annotations

from dataclasses import dataclass

from mmrl.errors import ConfigError


@dataclass(frozen=True)
class Band:
    """Keep prompts whose accuracy c/n lies in [low, high] (MM-Eureka keeps 0 < acc < 1)."""

    low: float = 0.0
    high: float = 1.0

    def keeps(self, accuracy: float) -> bool:
        return self.low <= accuracy <= self.high


def parse_band(text: str) -> Band:
    """``"0.1:0.9"`` -> Band(0.1, 0.9); either side may be empty (``":0.9"``)."""
    lo, sep, hi = text.partition(":")
    if not sep:
        raise ConfigError(f"--keep takes LOW:HIGH accuracies, e.g. 0.1:0.9; got {text!r}")
    try:
        band = Band(float(lo) if lo.strip() else 0.0, float(hi) if hi.strip() else 1.0)
    except ValueError:
        raise ConfigError(f"--keep takes numbers LOW:HIGH, got {text!r}") from None
    if not 0.0 <= band.low <= band.high <= 1.0:
        raise ConfigError(f"--keep needs 0 <= LOW <= HIGH <= 1, got {text!r}")
    return band


@dataclass(frozen=True)
class Buckets:
    """Named levels by difficulty: level i holds difficulties in (upper[i-1], upper[i]]."""

    names: tuple[str, ...]
    uppers: tuple[float, ...]

    def level(self, difficulty: float) -> str:
        for name, upper in zip(self.names, self.uppers):
            if difficulty <= upper + 1e-12:
                return name
        return self.names[-1]


def parse_buckets(text: str) -> Buckets:
    """``"easy,medium,hard"`` (equal widths) or ``"easy:0.3,medium:0.7,hard"`` (upper bounds)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        raise ConfigError(f"--buckets needs at least two names, got {text!r}")
    names, uppers = [], []
    for i, part in enumerate(parts):
        name, sep, upper = part.partition(":")
        if not name:
            raise ConfigError(f"--buckets: empty level name in {text!r}")
        names.append(name)
        if sep:
            try:
                uppers.append(float(upper))
            except ValueError:
                raise ConfigError(f"--buckets: {part!r} needs NAME:UPPER with a number") from None
        else:
            uppers.append(None)
    if all(u is None for u in uppers):
        uppers = [(i + 1) / len(names) for i in range(len(names))]
    else:
        if uppers[-1] is None:
            uppers[-1] = 1.0
        if any(u is None for u in uppers):
            raise ConfigError(f"--buckets: give an upper bound to every level but the last, got {text!r}")
    if any(b <= a for a, b in zip(uppers, uppers[1:])) or not 0 < uppers[0] or uppers[-1] < 1.0:
        raise ConfigError(f"--buckets: upper bounds must increase within (0, 1] and end at 1, got {text!r}")
    return Buckets(tuple(names), tuple(float(u) for u in uppers))
