"""`mmrl grpo --algo X` runs for every algorithm, and its output is a model every command loads."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

SMALL = ["--max-steps", "1", "--batch-size", "2", "-G", "2", "--max-new-tokens", "6", "--reward-workers", "0"]


@pytest.mark.parametrize("algo", ["grpo", "drgrpo", "rloo", "reinforce_pp", "dapo", "stepgrpo"])
def test_every_algorithm_runs_and_writes_metrics(algo, cli, tiny_model_dir, parity_file, tmp_path):
    out = tmp_path / algo
    result = cli("grpo", "--algo", algo, "--model", tiny_model_dir, "--data", parity_file, "--out", str(out), *SMALL)
    assert result.exit_code == 0, result.stderr
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert row["step"] == 1 and "reward/mean" in row and "valid_group_frac" in row


def test_rollout_loads_the_trained_model(cli, tiny_model_dir, parity_file, tmp_path):
    out = tmp_path / "rl"
    assert cli("grpo", "--model", tiny_model_dir, "--data", parity_file, "--out", str(out), *SMALL).exit_code == 0
    drawn = tmp_path / "r.jsonl"
    result = cli("rollout", "--model", str(out), "--data", parity_file, "-n", "1", "--max-new-tokens", "4",
                 "-o", str(drawn))
    assert result.exit_code == 0, result.stderr
    assert len(drawn.read_text().splitlines()) == 12


def test_a_second_run_into_the_same_folder_is_refused(cli, tiny_model_dir, parity_file, tmp_path):
    out = tmp_path / "rl"
    assert cli("grpo", "--model", tiny_model_dir, "--data", parity_file, "--out", str(out), *SMALL).exit_code == 0
    result = cli("grpo", "--model", tiny_model_dir, "--data", parity_file, "--out", str(out), *SMALL)
    assert result.exit_code == 2 and "--resume" in result.stderr


def test_an_unknown_algorithm_exits_2(cli, tiny_model_dir, parity_file, tmp_path):
    result = cli("grpo", "--algo", "ppo2", "--model", tiny_model_dir, "--data", parity_file, "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "unknown --algo" in result.stderr


def test_the_output_folder_may_not_be_the_model_folder(cli, tiny_model_dir, parity_file, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    before = (model / "model.safetensors").read_bytes()
    result = cli("grpo", "--model", str(model), "--data", parity_file, "--out", str(model), *SMALL)
    assert result.exit_code == 2 and "--model" in result.stderr
    assert (model / "model.safetensors").read_bytes() == before
