"""`mmrl demo`: a seconds-long run of every phase through the CLI, checking what it leaves behind.

The learning itself (RL beating SFT by 20+ points in minutes) is measured by
benchmarks/demo_seeds.py, not here: these settings are far too small to learn anything.
"""
from __future__ import annotations

import json

import pytest

from mmrl.errors import ConfigError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from typer.testing import CliRunner

    from mmrl_cli.main import app

    out = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(app, ["demo", "--quick", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def summary(demo_dir):
    return json.loads((demo_dir / "summary.json").read_text(encoding="utf-8"))


def test_summary_has_the_accuracy_of_each_stage_chance_and_time(summary):
    for key in ("accuracy_base", "accuracy_before_rl", "accuracy_after_rl"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["chance"] == pytest.approx(0.25)
    assert summary["seconds"] > 0 and summary["seed"] == 3


def test_summary_has_a_row_per_task_with_its_chance_and_three_accuracies(summary):
    from mmrl.demo import DemoConfig

    assert [t["task"] for t in summary["tasks"]] == sorted(DemoConfig().tasks.split(","))
    assert sum(t["n"] for t in summary["tasks"]) == summary["n_test"] == 6
    for row in summary["tasks"]:
        assert row["chance"] == pytest.approx(0.25)
        assert {"accuracy_base", "accuracy_before_rl", "accuracy_after_rl"} <= set(row)


def test_summary_has_format_reward_and_length_per_stage(summary):
    for key in ("format", "mean_reward", "response_tokens"):
        assert set(summary[key]) == {"base", "sft", "rl"}, key


def test_summary_has_the_answer_spread_of_each_stage(summary):
    for stage in ("base", "sft", "rl"):
        assert 0.0 <= summary["answer_entropy_bits"][stage] <= 2.0 + 1e-9
        assert set(summary["accuracy_by_answer"][stage]) <= {"red", "green", "blue", "yellow"}
        assert sum(summary["answers_given"][stage].values()) == summary["n_test"]


def test_summary_has_the_valid_group_fraction_and_answer_entropy_of_rl(summary):
    for key in ("valid_group_frac", "answer_entropy_bits"):
        assert set(summary["rl"][key]) == {"mean", "first_20", "last_20"}, key


def test_every_rl_step_logs_valid_groups_answer_entropy_and_accuracy_per_answer(demo_dir):
    rows = [json.loads(line) for line in (demo_dir / "model-rl" / "metrics.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        assert 0.0 <= row["valid_group_frac"] <= 1.0 and row["answer_entropy"] >= 0.0
        assert any(k.startswith("answer_accuracy/") for k in row)


def test_sft_learns_from_shuffled_answers_and_rl_from_the_true_ones(demo_dir):
    def answers(name):
        path = demo_dir / name
        return {r["id"]: r["answer"] for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}

    train, sft, graded = answers("data/train.jsonl"), answers("data/sft.jsonl"), answers("grade/graded.jsonl")
    assert graded == train
    assert sorted(sft.values()) == sorted(train.values()) and set(sft) == set(train)
    assert "data/sft.jsonl" in (demo_dir / "commands.sh").read_text(encoding="utf-8")


def test_test_images_are_held_out(summary):
    assert summary["held_out_images_also_in_train"] == 0


def test_curves_png_is_written(demo_dir):
    assert (demo_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_phase_leaves_its_usual_outputs(demo_dir):
    for path in ("data/train.jsonl", "data/test.jsonl", "model-base/config.json", "model-sft/metrics.jsonl",
                 "grade/graded.jsonl", "model-rl/metrics.jsonl", "model-rl/config.json", "eval/base/summary.json",
                 "eval/sft/summary.json", "eval/rl/summary.json", "commands.sh"):
        assert (demo_dir / path).is_file(), path


def test_a_folder_that_holds_a_run_needs_overwrite(tmp_path):
    from mmrl.demo import quick, run_demo

    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="--overwrite"):
        run_demo(quick(str(tmp_path)))


def test_unknown_task_fails_before_anything_is_written(tmp_path):
    from dataclasses import replace

    from mmrl.demo import quick, run_demo

    with pytest.raises(ConfigError, match="unknown task 'juggling'"):
        run_demo(replace(quick(str(tmp_path / "run")), tasks="colour,juggling"))
    assert not (tmp_path / "run").exists()


def test_minutes_stops_rl_early_and_still_evaluates(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("demo", "--quick", "--out", str(out), "--minutes", "0.000001")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rl"]["out_of_time"] and summary["rl"]["steps"] == 1 < summary["rl"]["max_steps"]
    assert (out / "eval" / "rl" / "summary.json").is_file()


@pytest.mark.parametrize("ratio", [-0.1, 1.0])
def test_an_rl_warmup_ratio_outside_0_to_1_is_refused(tmp_path, ratio):
    from dataclasses import replace

    from mmrl.demo import quick

    with pytest.raises(ConfigError, match="rl_warmup_ratio"):
        replace(quick(str(tmp_path)), rl_warmup_ratio=ratio).check()
