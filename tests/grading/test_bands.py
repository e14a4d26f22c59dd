"""Accuracy bands and named buckets."""
from __future__ import annotations

import pytest

from mmrl.errors import ConfigError
from mmrl.grading import parse_band, parse_buckets


def test_band_keeps_its_closed_interval():
    band = parse_band("0.1:0.9")
    assert [band.keeps(a) for a in (0.0, 0.1, 0.5, 0.9, 1.0)] == [False, True, True, True, False]
    assert parse_band(":0.5").low == 0.0 and parse_band("0.5:").high == 1.0


@pytest.mark.parametrize("text", ["0.5", "a:b", "0.9:0.1", "-1:0.5"])
def test_bad_bands_are_config_errors(text):
    with pytest.raises(ConfigError):
        parse_band(text)


def test_equal_width_buckets():
    b = parse_buckets("easy,medium,hard")
    assert b.uppers == pytest.approx((1 / 3, 2 / 3, 1.0))
    assert [b.level(d) for d in (0.0, 0.33, 0.5, 0.9, 1.0)] == ["easy", "easy", "medium", "hard", "hard"]


def test_buckets_with_bounds():
    b = parse_buckets("easy:0.25,medium:0.75,hard")
    assert [b.level(d) for d in (0.25, 0.26, 0.75, 0.8)] == ["easy", "medium", "medium", "hard"]


@pytest.mark.parametrize("text", ["easy", "a:0.5,b:0.4,c", "a:0.5,b,c", "a:x,b", "a:0.5,b:0.9"])
def test_bad_buckets_are_config_errors(text):
    with pytest.raises(ConfigError):
        parse_buckets(text)
