"""Every command that reads samples reads them where users keep them (issue 16): Parquet files and
save_to_disk folders with images embedded as bytes, located as PATH:row N in every message."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.formats import sample_rows, save_dataset, verl_rows, write_parquet

from mmrl.io.jsonl import read_jsonl

GEN = ("--max-new-tokens", "4", "--seed", "0")
READERS = {
    "data validate": lambda f, m, t: ["data", "validate", f],
    "rollout": lambda f, m, t: ["rollout", "--model", m, "--data", f, "-o", str(t / "out.jsonl")],
    "grade --model": lambda f, m, t: ["grade", f, "--model", m, "-o", str(t / "out.jsonl")],
    "warmup-sft": lambda f, m, t: ["warmup-sft", "--model", m, "--data", f, "--out", str(t / "out"), "--max-steps", "1"],
    "eval spec": lambda f, m, t: ["eval", "spec", "--model", m, "--data", f, "-o", str(t / "out")],
}


def _broken_row_parquet(tmp_path: Path) -> Path:
    rows = sample_rows(3)
    rows[1]["images"] = [{"bytes": b"\x89PNG\r\n\x1a\nnot really a png", "path": "bad.png"}]
    return write_parquet(tmp_path / "data" / "train.parquet", rows)


@pytest.mark.parametrize("command", list(READERS))
def test_a_bad_parquet_row_exits_2_as_path_row_field_reason(cli, tmp_path, command):
    src = _broken_row_parquet(tmp_path)
    result = cli(*READERS[command](str(src), str(tmp_path / "no-such-model"), tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{src}:row 1: images[0]: cannot decode image" in result.stderr


def test_validate_reads_a_saved_dataset_split(cli, tmp_path):
    save_dataset(tmp_path / "ds", {"train": sample_rows(3), "test": sample_rows(2)})
    result = cli("data", "validate", str(tmp_path / "ds"), "--split", "test")
    assert result.exit_code == 0, result.output
    assert "ok: 2 records" in result.stderr


def test_validate_maps_columns_given_on_the_command_line(cli, tmp_path):
    rows = [{"uid": f"u{i}", "problem": "1+1?", "final": "2"} for i in range(2)]
    src = write_parquet(tmp_path / "d.parquet", rows)
    assert cli("data", "validate", str(src), "--columns", "id=uid,answer=final").exit_code == 0


def test_columns_come_from_a_recipe_key(cli, tmp_path):
    src = write_parquet(tmp_path / "d.parquet", [{"uid": "u0", "query": "1+1?", "final": "2"}])
    recipe = tmp_path / "layout.yaml"
    recipe.write_text("data:\n  validate:\n    columns: id=uid,question=query,answer=final\n")
    assert cli("data", "validate", str(src)).exit_code == 2  # no question without the mapping
    result = cli("--config", str(recipe), "data", "validate", str(src))
    assert result.exit_code == 0, result.output


def test_rollout_writes_embedded_images_beside_its_output_and_the_output_reads_back(cli, tiny_model_dir, tmp_path):
    src = write_parquet(tmp_path / "data" / "train.parquet", sample_rows(3))
    out = tmp_path / "runs" / "r.jsonl"
    result = cli("rollout", "--model", tiny_model_dir, "--data", str(src), "-n", "2", "-o", str(out), *GEN)
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    assert [(r["id"], r["sample"]) for r in records] == [(f"s{i}", j) for i in range(3) for j in (0, 1)]
    assert all(r["images"][0].startswith("images/") and (out.parent / r["images"][0]).is_file() for r in records)
    assert len(list((out.parent / "images").iterdir())) == 3  # one file per image, not per draw
    check = cli("data", "validate", str(out), "--kind", "rollout")
    assert check.exit_code == 0, check.output


def test_rollout_to_stdout_keeps_embedded_images_as_data_uris(cli, tiny_model_dir, tmp_path):
    src = write_parquet(tmp_path / "train.parquet", sample_rows(2))
    result = cli("rollout", "--model", tiny_model_dir, "--data", str(src), *GEN)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and all(r["images"][0].startswith("data:image/png;base64,") for r in records)


def test_rollout_reads_a_verl_dataset_split_without_conversion(cli, tiny_model_dir, tmp_path):
    save_dataset(tmp_path / "geo3k", {"train": verl_rows(2), "test": verl_rows(1)})
    out = tmp_path / "r.jsonl"
    result = cli("rollout", "--model", tiny_model_dir, "--data", str(tmp_path / "geo3k"), "--split", "train",
                 "-o", str(out), *GEN)
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["question"], r["answer"], r["source"]) for r in read_jsonl(out)] == [
        ("train-0", "<image>What is x?", "1", "geo3k"), ("train-1", "<image>What is x?", "2", "geo3k")]


def test_warmup_sft_trains_on_a_saved_dataset(cli, tiny_model_dir, tmp_path):
    save_dataset(tmp_path / "ds", {"train": sample_rows(4)})
    result = cli("warmup-sft", "--model", tiny_model_dir, "--data", str(tmp_path / "ds"), "--out",
                 str(tmp_path / "sft"), "--max-steps", "1", "--lr", "1e-3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sft" / "config.json").is_file()


def test_eval_spec_runs_on_a_parquet_file_and_writes_its_images(cli, tiny_model_dir, tmp_path):
    src = write_parquet(tmp_path / "test.parquet", sample_rows(2))
    result = cli("eval", "spec", "--model", tiny_model_dir, "--data", str(src), "-o", str(tmp_path / "ev"), *GEN)
    assert result.exit_code == 0, result.output
    samples = read_jsonl(tmp_path / "ev" / "samples.jsonl")
    assert [s["id"] for s in samples] == ["s0", "s1"]
    assert all((tmp_path / "ev" / s["images"][0]).is_file() for s in samples)
    assert len(read_jsonl(tmp_path / "ev" / "predictions.jsonl")) == 2


def test_grade_refuses_split_without_model(cli, tmp_path):
    src = tmp_path / "scored.jsonl"
    src.write_text("")
    result = cli("grade", str(src), "--split", "train")
    assert result.exit_code == 2 and "--split and --columns read samples for --model" in result.stderr


def test_grade_model_on_parquet_writes_graded_samples_that_read_back(cli, tiny_model_dir, tmp_path):
    src = write_parquet(tmp_path / "train.parquet", sample_rows(2))
    out = tmp_path / "graded" / "g.jsonl"
    result = cli("grade", str(src), "--model", tiny_model_dir, "-n", "2", "-o", str(out), *GEN)
    assert result.exit_code == 0, result.output
    graded = read_jsonl(out)
    assert [g["id"] for g in graded] == ["s0", "s1"]
    assert all(g["images"][0].startswith("data:image/png") for g in graded)  # not a path into a temporary folder
    assert cli("data", "validate", str(out), "--kind", "graded").exit_code == 0
