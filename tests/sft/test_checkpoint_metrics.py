"""Checkpoint folders, random-state capture and the metrics log, without a model."""
from __future__ import annotations

import json
import random
import sys

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.train import checkpoint as ckpt
from mmrl.train.metrics_log import MetricsLog


def _make(out, step):
    folder = ckpt.staging_dir(out, step)
    folder.mkdir(parents=True)
    return ckpt.finalize(out, step, {"step": step, "time": 0.0})


def test_latest_is_the_highest_complete_step_and_staging_folders_are_ignored(tmp_path):
    for step in (2, 10, 4):
        _make(tmp_path, step)
    ckpt.staging_dir(tmp_path, 12).mkdir()  # a save that crashed half-way
    assert ckpt.latest_checkpoint(tmp_path) == ckpt.step_dir(tmp_path, 10)
    assert ckpt.read_state(ckpt.latest_checkpoint(tmp_path)) == {"step": 10, "time": 0.0}


def test_prune_keeps_the_newest_and_removes_staging(tmp_path):
    for step in (1, 2, 3):
        _make(tmp_path, step)
    ckpt.staging_dir(tmp_path, 4).mkdir()
    ckpt.prune(tmp_path, keep=2)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [2, 3]
    assert not ckpt.staging_dir(tmp_path, 4).exists()


def test_no_checkpoint_means_none(tmp_path):
    assert ckpt.latest_checkpoint(tmp_path) is None


def test_restored_random_state_repeats_the_same_draws(tmp_path):
    ckpt.save_rng(tmp_path)
    first = (random.random(), torch.rand(3).tolist())
    ckpt.load_rng(tmp_path)
    assert (random.random(), torch.rand(3).tolist()) == first


def test_missing_random_state_of_a_process_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="process 1"):
        ckpt.load_rng(tmp_path, rank=1)


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_metrics_lines_are_spec_records_and_nan_becomes_null(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with MetricsLog(path) as m:
        m.log(1, 0.5, loss=2.0, lr=1e-5)
        m.log(2, 1.0, loss=float("nan"), lr=1e-5)
    assert _lines(path) == [{"step": 1, "time": 0.5, "loss": 2.0, "lr": 1e-5},
                            {"step": 2, "time": 1.0, "loss": None, "lr": 1e-5}]


def test_resumed_metrics_drop_the_steps_after_the_checkpoint(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with MetricsLog(path) as m:
        for step in (1, 2, 3):
            m.log(step, step, loss=1.0)
    with MetricsLog(path, resume_step=2) as m:
        m.log(3, 3.5, loss=0.5)
    assert [(r["step"], r["loss"]) for r in _lines(path)] == [(1, 1.0), (2, 1.0), (3, 0.5)]


def test_tensorboard_without_the_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ConfigError, match="pip install tensorboard"):
        MetricsLog(tmp_path / "m.jsonl", tensorboard_dir=tmp_path / "tb")


def test_tensorboard_gets_every_numeric_metric_by_step(tmp_path, monkeypatch):
    import types

    calls = []

    class Writer:
        def __init__(self, log_dir):
            calls.append(("open", log_dir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, value, step))

        def flush(self):
            pass

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=Writer))
    with MetricsLog(tmp_path / "m.jsonl", tensorboard_dir=tmp_path / "tb") as m:
        m.log(7, 1.0, loss=0.25, lr=1e-5, note="text", diverged=float("inf"))
    assert calls == [("open", str(tmp_path / "tb")), ("loss", 0.25, 7), ("lr", 1e-5, 7), ("close",)]
