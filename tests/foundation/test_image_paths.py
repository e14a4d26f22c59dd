"""One rule for relative image paths: they resolve against the input's folder (stdin: the current
folder, or --image-root) and are rewritten for the output's folder, through every command."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mmrl.io.schema import rebase_images

pytestmark = pytest.mark.slow


def test_a_relative_path_is_rewritten_for_another_folder(tmp_path):
    record = {"images": ["images/a.png", "/abs/b.png", "data:image/png;base64,xx"]}
    out = rebase_images(record, tmp_path / "data", tmp_path / "runs" / "x")
    assert out["images"] == ["../../data/images/a.png", "/abs/b.png", "data:image/png;base64,xx"]
    assert record["images"][0] == "images/a.png"  # the input record is not modified


@pytest.fixture
def workspace(tmp_path, synth_file, monkeypatch):
    """A working folder with the synthetic samples (and their images) under data/."""
    shutil.copytree(Path(synth_file).parent, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def validate(cli, path):
    result = cli("data", "validate", str(path))
    assert result.exit_code == 0, result.stderr


def test_rollout_reward_grade_through_pipes_keep_their_images(cli, workspace, tiny_model_dir):
    drawn = cli("rollout", "--model", tiny_model_dir, "--data", "data/data.jsonl", "-n", "2",
                "--max-new-tokens", "2", "--seed", "0")
    assert drawn.exit_code == 0, drawn.stderr
    scored = cli("reward", "-", "--workers", "0", input=drawn.stdout)
    assert scored.exit_code == 0, scored.stderr
    graded = cli("grade", "-", "--k", "1,2", "-o", "out/graded.jsonl", "--keep", "0:1", "--dropped", "elsewhere/dropped.jsonl",
                 input=scored.stdout)
    assert graded.exit_code == 0, graded.stderr
    validate(cli, "out/graded.jsonl")
    first = json.loads(Path("out/graded.jsonl").read_text().splitlines()[0])
    assert first["images"][0].startswith("../data/images/")


def test_rollout_reward_grade_through_files_in_different_folders(cli, workspace, tiny_model_dir):
    steps = [
        ("rollout", "--model", tiny_model_dir, "--data", "data/data.jsonl", "-n", "2", "--max-new-tokens", "2",
         "-o", "a/rollouts.jsonl"),
        ("reward", "a/rollouts.jsonl", "--workers", "0", "-o", "b/c/scored.jsonl"),
        ("grade", "b/c/scored.jsonl", "--k", "1,2", "-o", "d/graded.jsonl"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, result.stderr
        out = step[step.index("-o") + 1]
        if step[0] == "grade":
            validate(cli, out)
        for line in Path(out).read_text().splitlines():
            for ref in json.loads(line).get("images", []):
                assert (Path(out).parent / ref).is_file(), (step[0], ref)


def test_stdin_images_can_live_elsewhere_with_image_root(cli, workspace, tiny_model_dir):
    records = Path("data/data.jsonl").read_text()
    drawn = cli("rollout", "--model", tiny_model_dir, "--data", "-", "-n", "1", "--max-new-tokens", "2",
                "--image-root", "data", "-o", "r/rollouts.jsonl", input=records)
    assert drawn.exit_code == 0, drawn.stderr
    first = json.loads(Path("r/rollouts.jsonl").read_text().splitlines()[0])
    assert (Path("r") / first["images"][0]).is_file()


def test_stdin_images_without_image_root_resolve_in_the_current_folder(cli, workspace, tiny_model_dir):
    records = Path("data/data.jsonl").read_text()
    drawn = cli("rollout", "--model", tiny_model_dir, "--data", "-", "-n", "1", "--max-new-tokens", "2",
                "-o", "r/rollouts.jsonl", input=records)
    assert drawn.exit_code == 2 and "images[0]" in drawn.stderr
