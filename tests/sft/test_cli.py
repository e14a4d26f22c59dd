"""``mmrl warmup-sft`` on the command line: flags, recipes, clean errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "r1vl_warmup.yaml"


def test_help_lists_the_main_flags(cli):
    r = cli("warmup-sft", "--help")
    assert r.exit_code == 0
    for flag in ("--model", "--data", "--out", "--max-steps", "--epochs", "--lr", "--batch-size", "--lora",
                 "--freeze-vision", "--packing", "--filter", "--resume", "--deepspeed", "--config"):
        assert flag in r.output


def test_bad_data_exits_2_with_path_line_and_field(cli, write_jsonl, tiny_model_dir, tmp_path):
    path = write_jsonl([{"id": "a", "question": "Why?"}], "noresp.jsonl")
    r = cli("warmup-sft", "--model", tiny_model_dir, "--data", path, "--out", str(tmp_path / "o"))
    assert r.exit_code == 2
    assert f"{path}:1: response: required" in r.output


def test_bad_flag_values_exit_2(cli, tiny_model_dir, synth_file, tmp_path):
    r = cli("warmup-sft", "--model", tiny_model_dir, "--data", synth_file, "--out", str(tmp_path / "o"),
            "--truncation", "sometimes")
    assert r.exit_code == 2 and "--truncation must be one of" in r.output


@pytest.mark.slow
def test_recipe_sets_defaults_and_flags_override_it(cli, tiny_model_dir, synth_file, write_jsonl, synth_records, tmp_path):
    bad = {**synth_records[0], "id": "unformatted", "response": "It is 12."}
    data = write_jsonl([*synth_records, bad], "with_bad.jsonl")
    out = tmp_path / "r1vl"
    r = cli("warmup-sft", "--config", str(RECIPE), "--model", tiny_model_dir, "--data", data, "--out", str(out),
            "--max-steps", "2", "--batch-size", "2", "--grad-accum", "1", "--dtype", "float32")
    assert r.exit_code == 0, r.output
    run = json.loads((out / "mmrl_sft.json").read_text())
    assert run["config"]["lr"] == 2e-5 and run["config"]["freeze_vision"] is True  # from the recipe
    assert run["config"]["batch_size"] == 2 and run["steps"] == 2  # from the flags
    assert run["data"]["dropped"] == {"format": 1} and run["data"]["kept"] == 12
    assert "1 format" in r.output
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
