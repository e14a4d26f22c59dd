"""`mmrl rollout` on the command line: records, resume, metrics, errors."""
from __future__ import annotations

import json
from pathlib import Path

from mmrl.io.jsonl import read_jsonl
from mmrl.io.schema import validate_file

ARGS = ("--max-new-tokens", "5", "--seed", "3")


def test_writes_n_valid_records_per_sample_and_metrics(cli, tiny_model_dir, synth_file, tmp_path):
    out = tmp_path / "out" / "r.jsonl"
    result = cli("rollout", "--model", tiny_model_dir, "--data", synth_file, "-n", "2", "-o", str(out), *ARGS)
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    n_samples = len(read_jsonl(synth_file))
    assert [(r["id"], r["sample"]) for r in records] == [(s["id"], j) for s in read_jsonl(synth_file) for j in (0, 1)]
    count, errors = validate_file(out, kind="rollout")  # images still resolve from the new folder
    assert (count, errors) == (2 * n_samples, [])
    metrics = json.loads((tmp_path / "out" / "r.metrics.json").read_text())
    assert metrics["prompts"] == n_samples and metrics["records"] == 2 * n_samples
    assert metrics["tokens"] == sum(r["num_tokens"] for r in records) and metrics["tokens_per_s"] > 0


def test_resume_after_a_crash_gives_the_uninterrupted_output(cli, tiny_model_dir, synth_file, tmp_path):
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    assert cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "-n", "3", "-o", str(full), *ARGS).exit_code == 0
    lines = full.read_text().splitlines(keepends=True)
    cut.write_text("".join(lines[:7]) + lines[7][:40])  # 7 whole draws and a torn line
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "-n", "3", "-o", str(cut), "--resume", *ARGS)
    assert result.exit_code == 0, result.output
    resumed = read_jsonl(cut)
    keys = [(r["id"], r["sample"]) for r in resumed]
    assert len(keys) == len(set(keys)) == len(lines)
    by_key = {(r["id"], r["sample"]): r for r in read_jsonl(full)}
    assert all(r == by_key[(r["id"], r["sample"])] for r in resumed)


def test_rerun_without_resume_starts_over(cli, tiny_model_dir, synth_file, tmp_path):
    out = tmp_path / "r.jsonl"
    for _ in range(2):
        assert cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "-n", "1", "-o", str(out), *ARGS).exit_code == 0
    assert len(read_jsonl(out)) == len(read_jsonl(synth_file))


def test_stdout_output_is_pure_jsonl(cli, tiny_model_dir, synth_file):
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "-n", "1", *ARGS)
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(read_jsonl(synth_file))
    assert all(json.loads(line)["model"] == tiny_model_dir for line in lines)


def test_bad_record_exits_2_naming_file_and_line(cli, tiny_model_dir, synth_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    rows = read_jsonl(synth_file)[:2]
    rows[1].pop("question")
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    images = Path(synth_file).parent / "images"
    (tmp_path / "images").symlink_to(images)
    result = cli("rollout", "-m", tiny_model_dir, "-d", str(bad), "-o", str(tmp_path / "o.jsonl"), *ARGS)
    assert result.exit_code == 2
    assert f"{bad}:2: question: required field is missing" in result.output


def test_prompt_too_long_exits_2(cli, tiny_model_dir, synth_file, tmp_path):
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "--max-prompt-length", "8",
                 "-o", str(tmp_path / "o.jsonl"), *ARGS)
    assert result.exit_code == 2
    assert f"{synth_file}:1: images: prompt is" in result.output


def test_bad_sampling_flag_exits_2(cli, tiny_model_dir, synth_file):
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "--think-budget", "9", "--max-new-tokens", "5")
    assert result.exit_code == 2 and "think_budget" in result.output


def test_forced_answering_from_the_command_line(cli, tiny_model_dir, synth_file, tmp_path):
    out = tmp_path / "f.jsonl"
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "-n", "2", "--max-new-tokens", "30",
                 "--think-budget", "4", "--answer-budget", "3", "-o", str(out), "--seed", "0")
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    forced = [r for r in records if r["finish_reason"] == "forced"]
    assert forced and all("</think><answer>" in r["response"] for r in forced)


def test_a_model_that_fails_to_load_leaves_the_output_alone(cli, synth_file, tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "kept"}\n')
    result = cli("rollout", "-m", str(tmp_path / "no-such-model"), "-d", synth_file, "-o", str(out), *ARGS)
    assert result.exit_code == 2 and "model folder not found" in result.output
    assert out.read_text() == '{"id": "kept"}\n'


def test_recipe_section_sets_defaults_and_flags_override(cli, tiny_model_dir, synth_file, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"rollout:\n  model: {tiny_model_dir}\n  n: 2\n  max-new-tokens: 3\n  seed: 1\n")
    out = tmp_path / "o.jsonl"
    result = cli("rollout", "--config", str(recipe), "--data", synth_file, "-n", "3", "-o", str(out))
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    assert len(records) == 3 * len(read_jsonl(synth_file)) and max(r["num_tokens"] for r in records) <= 3


def test_unknown_backend_exits_2(cli, tiny_model_dir, synth_file):
    result = cli("rollout", "-m", tiny_model_dir, "-d", synth_file, "--backend", "nope")
    assert result.exit_code == 2 and "unknown rollout backend 'nope'" in result.output
