"""Checkpoints and outputs a crash, a full disk or a stranger left behind (issue 20, items 2, 8, 9
and 14): a planted pickle never runs, a damaged newest checkpoint gives way to the one before,
a resumed run's logs read as one run, and the final model is never half-written."""
from __future__ import annotations

import errno
import json
import pickle
import shutil
from pathlib import Path

import pytest

from tests.adversarial.harness import Case, check


def grpo_args(out: Path, fx: dict, *extra: str) -> list[str]:
    return ["grpo", "--model", fx["model"], "--data", fx["data"], "--out", str(out), "--batch-size", "2", "-G", "2",
            "--max-steps", "3", "--max-new-tokens", "4", "--reward-workers", "0", "--beta", "0",
            "--save-steps", "1", "--save-total-limit", "3", "--sample-steps", "1", *extra]


@pytest.fixture(scope="module")
def finished_run(fixtures, tmp_path_factory) -> Path:
    """A 3-step run with checkpoints after steps 1 and 2, its samples and the final model."""
    from typer.testing import CliRunner

    from mmrl_cli.main import app

    out = tmp_path_factory.mktemp("finished") / "run"
    result = CliRunner().invoke(app, grpo_args(out, fixtures))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-1", "step-2"]
    return out


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    return out


class _Plant:
    """A pickle that, if loaded with code allowed, creates the file ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def resume(out: Path):
    return lambda tmp, fx: grpo_args(out, fx, "--resume")


def test_a_pickle_planted_in_a_checkpoint_does_not_run(cli, tmp_path, fixtures, run_copy):
    marker = tmp_path / "ran"
    for step in ("step-1", "step-2"):
        (run_copy / "checkpoints" / step / "rng_state_0.pt").write_bytes(pickle.dumps(_Plant(marker)))
    check(cli, Case("planted-pickle", "2", resume(run_copy), "rng_state_0.pt: cannot be read as a checkpoint file"),
          tmp_path, fixtures)
    assert not marker.exists()


def test_a_planted_optimizer_pickle_does_not_run(cli, tmp_path, fixtures, run_copy):
    import torch

    marker = tmp_path / "ran"
    for step in ("step-1", "step-2"):
        torch.save({"optimizer": _Plant(marker)}, run_copy / "checkpoints" / step / "optimizer.pt")
    check(cli, Case("planted-optimizer", "2", resume(run_copy), "optimizer.pt: cannot be read as a checkpoint file"),
          tmp_path, fixtures)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["trainable.safetensors", "optimizer.pt", "rng_state_0.pt", "trainer_state.json"])
def test_a_damaged_newest_checkpoint_gives_way_to_the_one_before(cli, run_copy, damage):
    target = run_copy / "checkpoints" / "step-2" / damage
    target.write_bytes(target.read_bytes()[: max(1, target.stat().st_size // 2)])
    result = cli(*grpo_args(run_copy, {"model": _model(run_copy), "data": _data(run_copy)}, "--resume"))
    assert result.exit_code == 0, result.output
    assert "trying the checkpoint before it" in result.output and "step-1" in result.output
    steps = [json.loads(line)["step"] for line in (run_copy / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def test_no_readable_checkpoint_is_refused_naming_each_file(cli, tmp_path, fixtures, run_copy):
    for step in ("step-1", "step-2"):
        (run_copy / "checkpoints" / step / "trainer_state.json").write_text("{not json", encoding="utf-8")
    check(cli, Case("no-readable-checkpoint", "14", resume(run_copy), "no checkpoint in"), tmp_path, fixtures)
    result = cli(*grpo_args(run_copy, fixtures, "--resume"))
    assert "step-1/trainer_state.json" in result.output and "step-2/trainer_state.json" in result.output


def test_garbage_in_the_metrics_log_is_refused_naming_the_file(cli, tmp_path, fixtures, run_copy):
    metrics = run_copy / "metrics.jsonl"
    lines = metrics.read_text(encoding="utf-8").splitlines()
    metrics.write_text("\n".join([lines[0], '{"step": "two"}', *lines[1:]]) + "\n", encoding="utf-8")
    check(cli, Case("garbage-metrics", "14", resume(run_copy), "metrics.jsonl"), tmp_path, fixtures)


def test_resume_cuts_the_samples_back_to_the_checkpoint(cli, fixtures, run_copy):
    samples = run_copy / "samples.jsonl"
    shutil.rmtree(run_copy / "checkpoints" / "step-2")
    with samples.open("a", encoding="utf-8") as f:
        f.write('{"step": 4, "id": "cut sh')  # a crash in the middle of a line
    result = cli(*grpo_args(run_copy, fixtures, "--resume"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    per_step = {s: sum(1 for r in rows if r["step"] == s) for s in {r["step"] for r in rows}}
    assert sorted(per_step) == [1, 2, 3]
    assert len(set(per_step.values())) == 1  # each step's rows once, the redone ones too


def test_a_full_disk_during_the_final_save_leaves_no_half_written_model(cli, tmp_path, fixtures, monkeypatch):
    from transformers import PreTrainedModel

    real = PreTrainedModel.save_pretrained

    def full_disk(self, folder, *args, **kwargs):
        real(self, folder, *args, **kwargs)
        weights = Path(folder) / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])  # what a full disk leaves
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", full_disk)
    out = tmp_path / "run"
    check(cli, Case("disk-full-final", "9", lambda tmp, fx: grpo_args(out, fx, "--save-steps", "2"),
                    "cannot write the final model"), tmp_path, fixtures)
    assert not (out / "model.safetensors").exists()
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-2"]


def test_a_full_disk_while_saving_a_checkpoint_keeps_the_earlier_ones(cli, tmp_path, fixtures, monkeypatch):
    from mmrl.train import checkpoint as ckpt

    real, calls = ckpt.save_local, []

    def full_on_second(folder, *args):
        calls.append(folder)
        real(folder, *args)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "save_local", full_on_second)
    out = tmp_path / "run"
    check(cli, Case("disk-full-checkpoint", "17", lambda tmp, fx: grpo_args(out, fx),
                    "cannot write the checkpoint of step 2"), tmp_path, fixtures)
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-1"]


def test_overwrite_removes_the_previous_runs_model_before_training(cli, fixtures, run_copy, monkeypatch):
    from mmrl.model import loading

    def crash(*a, **k):
        raise RuntimeError("crashed while loading")

    monkeypatch.setattr(loading, "load_model", crash)
    result = cli(*grpo_args(run_copy, fixtures, "--overwrite"))
    assert result.exit_code != 0
    left = sorted(p.name for p in run_copy.iterdir())
    assert "model.safetensors" not in left and "mmrl_grpo.json" not in left and "checkpoints" not in left, left


def _model(run: Path) -> str:
    return json.loads((run / "mmrl_grpo.json").read_text())["config"]["model"]


def _data(run: Path) -> str:
    return json.loads((run / "mmrl_grpo.json").read_text())["config"]["data"]
