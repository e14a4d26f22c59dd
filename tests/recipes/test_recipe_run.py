"""``mmrl recipe run``: the chain end to end on the tiny model, each stage in its folder with the files
its command writes; an unchanged stage is kept, a changed one runs again, a killed grpo resumes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STAGES = ["data", "rollout", "reward", "grade", "grpo", "eval"]


def _run(cli, recipe, model, out, *extra):
    return cli("recipe", "run", str(recipe), "--model", model, "--out", str(out), "--scale", "tiny", *extra)


def _steps(out: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (out / "grpo" / "metrics.jsonl").read_text().splitlines()]


def _records(out: Path) -> dict[str, dict]:
    return {s: json.loads((out / s / "stage.json").read_text()) for s in STAGES}


@pytest.fixture
def finished(cli, tmp_path, small_recipe, tiny_model_dir):
    out = tmp_path / "run"
    result = _run(cli, small_recipe, tiny_model_dir, out)
    assert result.exit_code == 0, result.stderr
    return out, result


def test_each_stage_writes_what_its_command_writes(finished):
    out, _ = finished
    for path in ["data/train/train.jsonl", "data/test/test.jsonl", "rollout/rollouts.jsonl", "reward/scored.jsonl",
                 "grade/graded.jsonl", "grpo/model.safetensors", "eval/before/summary.json",
                 "eval/after/summary.json", "curves.png"]:
        assert (out / path).is_file(), path
    assert _steps(out) == [1, 2, 3]
    assert all(r["state"] == "done" for r in _records(out).values())


def test_the_report_holds_accuracy_before_and_after_per_source(finished):
    out, result = finished
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert [r["source"] for r in rows] == ["synth/count", "all"]
    assert all(set(r) == {"source", "n", "before", "after", "change"} for r in rows)
    assert "before" in result.stderr and "after" in result.stderr


def test_each_stage_is_announced_on_stderr(finished):
    _, result = finished
    for i, stage in enumerate(STAGES, 1):
        assert f"stage {i}/{len(STAGES)}: {stage}" in result.stderr


def test_a_stage_settings_file_names_the_source_of_each_value(finished):
    out, _ = finished
    text = (out / "grpo" / "settings.yaml").read_text()
    assert "max_steps: 3   # scale tiny small.yaml:" in text
    assert "group_size: 2   # recipe small.yaml:" in text


def test_a_second_run_keeps_every_finished_stage(cli, finished, small_recipe, tiny_model_dir):
    out, _ = finished
    before = _records(out)
    again = _run(cli, small_recipe, tiny_model_dir, out)
    assert again.exit_code == 0, again.stderr
    assert again.stderr.count("done before with the same settings and inputs; kept") == len(STAGES)
    assert _records(out) == before


def test_a_changed_setting_runs_its_stage_and_those_after_it_again(cli, finished, small_recipe, tiny_model_dir):
    out, _ = finished
    before = _records(out)
    again = _run(cli, small_recipe, tiny_model_dir, out, "--set", "grpo.max_steps=2")
    assert again.exit_code == 0, again.stderr
    after = _records(out)
    assert [s for s in STAGES if after[s] == before[s]] == ["data", "rollout", "reward", "grade"]
    assert _steps(out) == [1, 2]


def test_a_finished_stage_whose_output_was_removed_runs_again(cli, finished, small_recipe, tiny_model_dir):
    out, _ = finished
    (out / "grade" / "graded.jsonl").unlink()
    again = _run(cli, small_recipe, tiny_model_dir, out)
    assert again.exit_code == 0, again.stderr
    assert (out / "grade" / "graded.jsonl").is_file()
    kept = [line.split(":")[0] for line in again.stderr.splitlines() if "with the same settings and inputs; kept" in line]
    assert kept == ["data", "rollout", "reward", "grpo", "eval"]   # grpo's input is the same again


def test_a_folder_not_written_by_a_recipe_run_is_not_touched(cli, tmp_path, small_recipe, tiny_model_dir):
    out = tmp_path / "run"
    (out / "data").mkdir(parents=True)
    (out / "data" / "mine.txt").write_text("keep me")
    result = _run(cli, small_recipe, tiny_model_dir, out)
    assert result.exit_code == 2
    assert "was not written by 'mmrl recipe run'" in result.stderr
    assert (out / "data" / "mine.txt").read_text() == "keep me"


def test_a_grpo_killed_mid_run_resumes_to_the_same_final_step(cli, tmp_path, small_recipe, tiny_model_dir,
                                                               monkeypatch):
    import mmrl.train.training_run as training_run

    save = training_run.save_checkpoint

    def killed_after_step_2(engine, out, step, *args, **kwargs):
        folder = save(engine, out, step, *args, **kwargs)
        if step == 2:
            raise KeyboardInterrupt  # as if the process were killed right after its step-2 checkpoint
        return folder

    out = tmp_path / "run"
    monkeypatch.setattr(training_run, "save_checkpoint", killed_after_step_2)
    killed = _run(cli, small_recipe, tiny_model_dir, out)
    assert killed.exit_code == 130, killed.stderr
    assert "run the same command again to resume" in killed.stderr
    assert json.loads((out / "grpo" / "stage.json").read_text())["state"] == "running"
    assert not (out / "eval").exists()
    first_two = (out / "grpo" / "metrics.jsonl").read_text().splitlines()[:2]

    monkeypatch.setattr(training_run, "save_checkpoint", save)
    resumed = _run(cli, small_recipe, tiny_model_dir, out)
    assert resumed.exit_code == 0, resumed.stderr
    assert "grpo: resuming from its last checkpoint" in resumed.stderr
    kept = [line.split(":")[0] for line in resumed.stderr.splitlines() if "the same settings and inputs; kept" in line]
    assert kept == ["data", "rollout", "reward", "grade"]
    assert _steps(out) == [1, 2, 3]
    assert (out / "grpo" / "metrics.jsonl").read_text().splitlines()[:2] == first_two  # steps 1-2 not redone
    assert json.loads((out / "grpo" / "stage.json").read_text())["state"] == "done"


def test_given_data_replaces_the_data_stage(cli, tmp_path, small_recipe, tiny_model_dir, synth_file):
    small_recipe.write_text(small_recipe.read_text().replace("chain: [data, rollout, reward, grade, grpo, eval]",
                                                             "chain: [data, rollout]"))
    out = tmp_path / "run"
    result = _run(cli, small_recipe, tiny_model_dir, out, "--data", synth_file, "--eval-data", synth_file)
    assert result.exit_code == 0, result.stderr
    assert "data: nothing to do (--data and --eval-data given)" in result.stderr
    assert not (out / "data").exists()
    drawn = [json.loads(line) for line in (out / "rollout" / "rollouts.jsonl").read_text().splitlines()]
    assert len(drawn) == 2 * len(Path(synth_file).read_text().splitlines())
