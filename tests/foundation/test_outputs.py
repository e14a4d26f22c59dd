"""Outputs that would destroy an input, or cannot be written (issue 9, items 4 and 5).

Every writing command refuses at start-up, exit status 2, naming the path, and leaves the input
byte for byte as it was. Unless the case needs a real model, the model named does not exist:
the guard runs before anything is loaded or opened.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.io.paths import OutputFolder, check_outputs

SAMPLE = {"id": "a", "question": "1+1?", "answer": "2", "response": "<think>add</think><answer>2</answer>"}
ROLLOUT = {**SAMPLE, "sample": 0, "finish_reason": "stop", "num_tokens": 4, "model": "m"}
SCORED = {**ROLLOUT, "extracted": "2", "rewards": {"accuracy": 1.0, "format": 1.0, "style": 1.0, "total": 1.0}}
SUMMARY = {"benchmark": "spec", "accuracy": 0.5, "total": 2, "breakdowns": {}}


def _write(path: Path, record: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_rollout_with_its_input_as_output_refuses_and_keeps_the_input(cli, tiny_model_dir, tmp_path):
    x = _write(tmp_path / "x.jsonl", SAMPLE)
    before = x.read_bytes()
    result = cli("rollout", "--model", tiny_model_dir, "--data", str(x), "-o", str(x), "--max-new-tokens", "2")
    assert result.exit_code == 2, result.output
    assert f"{x}: -o is the input file (--data {x})" in result.stderr
    assert x.read_bytes() == before


# (case, record of the input, input path under tmp, arguments given tmp/input/missing model, message)
SAME_FILE = {
    "reward -o": (ROLLOUT, "x.jsonl", lambda t, x, m: ["reward", x, "-o", x, "--workers", "0"], "-o is the input file"),
    "reward --metrics": (ROLLOUT, "x.jsonl", lambda t, x, m: ["reward", x, "-o", str(t / "o.jsonl"), "--metrics", x],
                         "--metrics is the input file"),
    "grade -o": (SCORED, "x.jsonl", lambda t, x, m: ["grade", x, "-o", x], "-o is the input file"),
    "grade --dropped": (SCORED, "x.jsonl", lambda t, x, m: ["grade", x, "-o", str(t / "o.jsonl"), "--dropped", x],
                        "--dropped is the input file"),
    "grade --plot": (SCORED, "x.jsonl", lambda t, x, m: ["grade", x, "--plot", x], "--plot is the input file"),
    "grade --metrics": (SCORED, "x.jsonl", lambda t, x, m: ["grade", x, "--metrics", x], "--metrics is the input file"),
    "grade --model --rollouts": (SAMPLE, "x.jsonl", lambda t, x, m: ["grade", x, "--model", m, "--rollouts", x],
                                 "--rollouts is the input file"),
    "rollout --metrics": (SAMPLE, "x.jsonl", lambda t, x, m: ["rollout", "--model", m, "--data", x,
                                                              "-o", str(t / "o.jsonl"), "--metrics", x],
                          "--metrics is the input file"),
    "rollout -o derived metrics": (SAMPLE, "x.metrics.json", lambda t, x, m: ["rollout", "--model", m, "--data", x,
                                                                             "-o", str(t / "x.jsonl")],
                                   "--metrics (default: beside -o) is the input file"),
    "eval spec -o DIR holding --data as samples.jsonl": (
        SAMPLE, "run/samples.jsonl", lambda t, x, m: ["eval", "spec", "--model", m, "--data", x, "-o", str(t / "run")],
        "--data is inside the output folder -o"),
    "eval prepare -o DIR holding --data as samples.jsonl": (
        SAMPLE, "run/samples.jsonl", lambda t, x, m: ["eval", "prepare", "spec", "--data", x, "-o", str(t / "run")],
        "--data is inside the output folder -o"),
    "eval score -o DIR holding the input as predictions.jsonl": (
        ROLLOUT, "run/predictions.jsonl", lambda t, x, m: ["eval", "score", "spec", x, "-o", str(t / "run")],
        "input is inside the output folder -o"),
    "eval compare -o a summary it compares": (
        SUMMARY, "run/summary.json", lambda t, x, m: ["eval", "compare", str(t / "run"), "-o", x],
        "-o is the input file"),
    "warmup-sft --overwrite with --data OUT/metrics.jsonl": (
        SAMPLE, "sft/metrics.jsonl", lambda t, x, m: ["warmup-sft", "--model", m, "--data", x, "--out", str(t / "sft"),
                                                      "--overwrite"],
        "--data is inside the output folder --out"),
}


@pytest.mark.parametrize("case", list(SAME_FILE))
def test_an_output_that_is_an_input_is_refused_before_anything_is_touched(cli, tmp_path, case):
    record, name, args, message = SAME_FILE[case]
    x = _write(tmp_path / name, record)
    before = x.read_bytes()
    result = cli(*args(tmp_path, str(x), str(tmp_path / "no-such-model")))
    assert result.exit_code == 2, result.output
    assert f"{x}: {message}" in result.stderr
    assert x.read_bytes() == before


def test_an_output_that_links_to_the_input_is_refused(cli, tmp_path):
    x = _write(tmp_path / "x.jsonl", SCORED)
    link = tmp_path / "link.jsonl"
    link.symlink_to(x)
    before = x.read_bytes()
    result = cli("grade", str(x), "-o", str(link))
    assert result.exit_code == 2 and f"{link}: -o is the input file (input {x})" in result.stderr
    assert x.read_bytes() == before and link.is_symlink()


def test_warmup_sft_refuses_to_write_over_the_model_it_starts_from(cli, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    data = _write(tmp_path / "d.jsonl", SAMPLE)
    result = cli("warmup-sft", "--model", str(model), "--data", str(data), "--out", str(model), "--max-steps", "1")
    assert result.exit_code == 2, result.output
    assert f"{model}: --out is the input folder (--model {model})" in result.stderr
    assert [p.name for p in model.iterdir()] == ["config.json"]


def test_two_outputs_on_one_path_are_refused(cli, tmp_path):
    x = _write(tmp_path / "x.jsonl", ROLLOUT)
    out = tmp_path / "o.jsonl"
    result = cli("reward", str(x), "-o", str(out), "--metrics", str(out), "--workers", "0")
    assert result.exit_code == 2 and f"{out}: given as both -o and --metrics" in result.stderr
    assert not out.exists()


# Outputs that are folders where a file is wanted, and the reverse.
FILE_OUTPUT_IS_A_FOLDER = {
    "rollout": (SAMPLE, lambda x, o, m: ["rollout", "--model", m, "--data", x, "-o", o]),
    "reward": (ROLLOUT, lambda x, o, m: ["reward", x, "-o", o, "--workers", "0"]),
    "grade": (SCORED, lambda x, o, m: ["grade", x, "-o", o]),
    "data synth": (SAMPLE, lambda x, o, m: ["data", "synth", "--n", "1", "-o", o]),
    "eval compare": (SUMMARY, lambda x, o, m: ["eval", "compare", x, "-o", o]),
}


@pytest.mark.parametrize("command", list(FILE_OUTPUT_IS_A_FOLDER))
def test_a_file_output_naming_a_folder_is_refused(cli, tmp_path, command):
    record, args = FILE_OUTPUT_IS_A_FOLDER[command]
    x = _write(tmp_path / "in.json", record)
    folder = tmp_path / "out"
    folder.mkdir()
    result = cli(*args(str(x), str(folder), str(tmp_path / "no-such-model")))
    assert result.exit_code == 2, result.output
    assert f"{folder}: -o: is a folder; give the path of a file to write" in result.stderr
    assert list(folder.iterdir()) == []


FOLDER_OUTPUT_IS_A_FILE = {
    "eval spec": (SAMPLE, lambda x, o, m: ["eval", "spec", "--model", m, "--data", x, "-o", o], "-o"),
    "eval prepare": (SAMPLE, lambda x, o, m: ["eval", "prepare", "spec", "--data", x, "-o", o], "-o"),
    "eval score": (ROLLOUT, lambda x, o, m: ["eval", "score", "spec", x, "-o", o], "-o"),
    "warmup-sft": (SAMPLE, lambda x, o, m: ["warmup-sft", "--model", m, "--data", x, "--out", o], "--out"),
    "model init-tiny": (SAMPLE, lambda x, o, m: ["model", "init-tiny", o], "OUT_DIR"),
}


@pytest.mark.parametrize("command", list(FOLDER_OUTPUT_IS_A_FILE))
def test_a_folder_output_naming_a_file_is_refused(cli, tmp_path, command):
    record, args, label = FOLDER_OUTPUT_IS_A_FILE[command]
    x = _write(tmp_path / "in.jsonl", record)
    existing = _write(tmp_path / "existing.jsonl", SAMPLE)
    before = existing.read_bytes()
    result = cli(*args(str(x), str(existing), str(tmp_path / "no-such-model")))
    assert result.exit_code == 2, result.output
    assert f"{existing}: {label}: is a file; give a folder to write into" in result.stderr
    assert existing.read_bytes() == before


UNWRITABLE = {
    "rollout": (SAMPLE, lambda x, o, m: ["rollout", "--model", m, "--data", x, "-o", o + "/o.jsonl"], "-o"),
    "reward": (ROLLOUT, lambda x, o, m: ["reward", x, "-o", o + "/o.jsonl", "--workers", "0"], "-o"),
    "grade": (SCORED, lambda x, o, m: ["grade", x, "-o", o + "/o.jsonl"], "-o"),
    "data synth": (SAMPLE, lambda x, o, m: ["data", "synth", "--n", "1", "-o", o + "/o.jsonl"], "-o"),
    "eval spec": (SAMPLE, lambda x, o, m: ["eval", "spec", "--model", m, "--data", x, "-o", o + "/run"], "-o"),
    "eval score": (ROLLOUT, lambda x, o, m: ["eval", "score", "spec", x, "-o", o + "/run"], "-o"),
    "warmup-sft": (SAMPLE, lambda x, o, m: ["warmup-sft", "--model", m, "--data", x, "--out", o + "/run"], "--out"),
}


@pytest.mark.parametrize("command", list(UNWRITABLE))
def test_an_output_under_a_file_is_refused(cli, tmp_path, command):
    record, args, label = UNWRITABLE[command]
    x = _write(tmp_path / "in.jsonl", record)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    result = cli(*args(str(x), str(blocker), str(tmp_path / "no-such-model")))
    assert result.exit_code == 2, result.output
    assert f"{blocker}/" in result.stderr and f": {label}: cannot create the " in result.stderr
    assert f"here: {blocker} is a file, not a folder" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write in read-only folders")
@pytest.mark.parametrize("command", ["rollout", "reward", "grade", "eval spec", "warmup-sft"])
def test_an_output_in_a_read_only_folder_is_refused(cli, tmp_path, command):
    record, args, label = UNWRITABLE[command]
    x = _write(tmp_path / "in.jsonl", record)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = cli(*args(str(x), str(locked), str(tmp_path / "no-such-model")))
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2, result.output
    assert f": {label}: cannot write in {locked}: Permission denied" in result.stderr


# The guard itself, as the library calls it.

def test_stdout_and_absent_paths_are_not_checked(tmp_path):
    check_outputs({"-o": "-", "--metrics": None}, {"--data": "-"})
    check_outputs([str(tmp_path / "new" / "o.jsonl")], [str(tmp_path / "missing.jsonl")])
    assert list(tmp_path.iterdir()) == []  # nothing created, not even the folder


def test_a_hard_link_to_an_input_is_the_input(tmp_path):
    x = _write(tmp_path / "x.jsonl", SAMPLE)
    os.link(x, tmp_path / "y.jsonl")
    with pytest.raises(ConfigError, match=r"y\.jsonl: output is the input file \(input .*x\.jsonl\)"):
        check_outputs([tmp_path / "y.jsonl"], [x])


def test_a_folder_output_may_hold_inputs_it_does_not_write(tmp_path):
    rollouts = _write(tmp_path / "run" / "rollouts.jsonl", ROLLOUT)  # eval prepare, rollout, eval score: docs/eval.md
    check_outputs(inputs={"input": rollouts}, folders=[OutputFolder(tmp_path / "run", ("predictions.jsonl",))])


def test_an_input_under_a_subfolder_the_command_writes_is_refused(tmp_path):
    model = tmp_path / "sft" / "checkpoints" / "step-2"
    model.mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"step-2: --model is inside the output folder --out .*writes checkpoints"):
        check_outputs(inputs={"--model": model}, folders=[OutputFolder(tmp_path / "sft", ("checkpoints",), "--out")])


def test_patterns_name_what_a_folder_output_writes(tmp_path):
    weights = _write(tmp_path / "out" / "model-00001.safetensors", {})
    with pytest.raises(ConfigError, match="writes model-00001.safetensors"):
        check_outputs(inputs=[weights], folders=[OutputFolder(tmp_path / "out", ("*.safetensors",))])
