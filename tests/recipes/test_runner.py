"""The runner's decisions, with commands that only write their outputs: which stages run, with which
files, and which resume (no model is loaded)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmrl.errors import MmrlError
from mmrl.recipes import RunRequest, load_recipe, run_recipe


class FakeCommands:
    """Each call writes the files its output flags name; ``stop_at`` makes one command stop (exit 130)."""

    def __init__(self, schema, stop_at: str | None = None):
        self.schema = schema
        self.calls: list[tuple[str, list[str]]] = []
        self.stop_at = stop_at

    def run(self, command, settings, args):
        name = " ".join(command)
        self.calls.append((name, list(args)))
        for flag in ("-o", "--out"):
            if flag in args:
                target = Path(args[args.index(flag) + 1])
                if name in ("grpo", "warmup-sft", "eval spec"):
                    target.mkdir(parents=True, exist_ok=True)
                    (target / "partial").write_text("x")
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text('{"id": "a"}\n')
        if name == self.stop_at:
            self.stop_at = None
            return 130
        return 0


@pytest.fixture
def model(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def _run(small_recipe, model, out, commands):
    return run_recipe(RunRequest(load_recipe(small_recipe), model=str(model), out=out, scale="tiny"), commands)


def test_the_stages_pass_their_files_along(schema, small_recipe, model, tmp_path):
    out = tmp_path / "run"
    commands = FakeCommands(schema)
    _run(small_recipe, model, out, commands)
    calls = dict((name, args) for name, args in commands.calls)
    assert calls["rollout"][calls["rollout"].index("--data") + 1] == f"{out}/data/train/train.jsonl"
    assert calls["reward"][0] == f"{out}/rollout/rollouts.jsonl"
    assert calls["grade"][0] == f"{out}/reward/scored.jsonl"
    assert calls["grpo"][calls["grpo"].index("--data") + 1] == f"{out}/grade/graded.jsonl"
    evals = [args for name, args in commands.calls if name == "eval spec"]
    assert [a[a.index("--model") + 1] for a in evals] == [str(model), f"{out}/grpo"]


def test_a_stopped_rollout_resumes_with_what_it_wrote(schema, small_recipe, model, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(MmrlError) as stopped:
        _run(small_recipe, model, out, FakeCommands(schema, stop_at="rollout"))
    assert stopped.value.exit_code == 130
    again = FakeCommands(schema)
    _run(small_recipe, model, out, again)
    assert [name for name, _ in again.calls][0] == "rollout"      # data was kept
    assert again.calls[0][1][-1] == "--resume"


def test_a_stopped_training_without_a_checkpoint_starts_again(schema, small_recipe, model, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(MmrlError):
        _run(small_recipe, model, out, FakeCommands(schema, stop_at="grpo"))
    assert (out / "grpo" / "partial").exists()
    again = FakeCommands(schema)
    _run(small_recipe, model, out, again)
    assert [name for name, _ in again.calls] == ["grpo", "eval spec", "eval spec"]
    assert "--resume" not in again.calls[0][1]


def test_a_changed_input_model_runs_every_stage_that_reads_it_again(schema, small_recipe, model, tmp_path):
    out = tmp_path / "run"
    _run(small_recipe, model, out, FakeCommands(schema))
    (model / "config.json").write_text('{"changed": true}')
    again = FakeCommands(schema)
    _run(small_recipe, model, out, again)
    assert [name for name, _ in again.calls] == ["rollout", "reward", "grade", "grpo", "eval spec", "eval spec"]
