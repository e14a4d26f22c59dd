"""Every numeric training setting declares its range (mmrl.train.bounds), and the range holds."""
from __future__ import annotations

import math
import typing
from dataclasses import fields

import pytest

from mmrl.rl.config import BOUNDS as GRPO_BOUNDS
from mmrl.rl.config import GRPOConfig
from mmrl.sft.config import BOUNDS as SFT_BOUNDS
from mmrl.sft.config import SFTConfig
from mmrl.train.bounds import COUNT, POSITIVE, SEED, SHARE, Bound


def _numeric(cls) -> set[str]:
    hints = typing.get_type_hints(cls)
    out = set()
    for f in fields(cls):
        if typing.get_origin(hints[f.name]) is tuple:
            continue  # adam_betas: each member checked on its own
        args = set(typing.get_args(hints[f.name])) or {hints[f.name]}
        if args & {int, float} and bool not in args:
            out.add(f.name)
    return out


@pytest.mark.parametrize("cls, bounds", [(GRPOConfig, GRPO_BOUNDS), (SFTConfig, SFT_BOUNDS)])
def test_every_numeric_setting_declares_a_range(cls, bounds):
    assert _numeric(cls) - set(bounds) == set()
    assert set(bounds) - _numeric(cls) == set()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_no_range_admits_nan_or_infinity(value):
    assert not Bound().holds(value)
    assert not POSITIVE.holds(value)


def test_ranges_are_closed_or_open_as_declared():
    assert POSITIVE.holds(1e-9) and not POSITIVE.holds(0.0)
    assert SHARE.holds(0.0) and not SHARE.holds(1.0)
    assert COUNT.holds(1) and not COUNT.holds(0) and not COUNT.holds(1.5)
    assert SEED.holds(2**32 - 1) and not SEED.holds(2**32) and not SEED.holds(-1)
    assert not COUNT.holds(True)  # a flag is not a count
