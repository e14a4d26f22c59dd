"""`max_seconds`: a GRPO run stops cleanly when its time budget would run out, and saves its model."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.rl.config import GRPOConfig
from mmrl.train.training_run import out_of_time


def config(max_seconds):
    return GRPOConfig.from_flags(model="m", data="d", out="o", max_seconds=max_seconds).run.max_seconds


def test_no_budget_never_runs_out():
    assert not out_of_time(config(None), steps_run=100, seconds_run=1e6, elapsed=1e6)


def test_a_step_that_would_end_past_the_budget_is_not_started():
    # two steps took 10 s: a third would end at 15 s
    assert out_of_time(config(14.0), steps_run=2, seconds_run=10.0, elapsed=10.0)


def test_a_step_that_fits_the_budget_is_started():
    assert not out_of_time(config(16.0), steps_run=2, seconds_run=10.0, elapsed=10.0)


def test_budget_must_be_positive():
    with pytest.raises(ConfigError, match="--max-seconds must be a finite number > 0"):
        config(0.0)


@pytest.mark.slow
def test_a_run_out_of_time_stops_after_its_first_step_and_saves_the_model(rl_config):
    from mmrl.rl.trainer import train

    result = train(rl_config(max_steps=5, max_seconds=1e-6))
    assert result.steps == 1 and result.out_of_time and result.interrupted is None
    assert (Path(result.out_dir) / "config.json").is_file()
