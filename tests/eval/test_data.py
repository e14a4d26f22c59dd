"""Loading benchmark data from local copies (JSON, JSONL, Parquet, saved datasets) and the Hub."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.eval.eval_helpers import FIXTURES, fixture_path

from mmrl.errors import ConfigError, DataError
from mmrl.eval.benchmark import get_benchmark
from mmrl.eval.data import iter_samples


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in Path(fixture_path(name)).read_text().splitlines() if line.strip()]


def _copy_images(bench: str, folder: Path) -> None:
    import shutil

    shutil.copytree(FIXTURES / bench / "images", folder / "images", dirs_exist_ok=True)


def _with_bytes(rows: list[dict], folder: Path) -> list[dict]:
    """Rows as the Hub's Parquet holds them: images as {bytes, path} structs."""
    out = []
    for r in rows:
        r = dict(r)
        r["image"] = {"bytes": (folder / r["image"]).read_bytes(), "path": "x.png"}
        out.append(r)
    return out


def test_official_json_keyed_by_pid_loads_with_relative_images(tmp_path):
    samples = list(iter_samples(get_benchmark("mathvista"), fixture_path("mathvista"), "testmini", tmp_path))
    assert [s["id"] for s in samples] == ["1", "2", "3", "4", "5", "6"]
    assert Path(samples[0]["images"][0]).is_file()


def test_limit_keeps_the_first_rows(tmp_path):
    samples = list(iter_samples(get_benchmark("mathvista"), fixture_path("mathvista"), "testmini", tmp_path, limit=2))
    assert len(samples) == 2


def test_parquet_with_image_bytes_writes_image_files(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _with_bytes(_rows("mathvision"), FIXTURES / "mathvision")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "testmini-00000.parquet")
    out = tmp_path / "out"
    samples = list(iter_samples(get_benchmark("mathvision"), str(tmp_path), "testmini", out))
    assert len(samples) == 4
    ref = samples[0]["images"][0]
    assert ref.startswith("images/") and (out / ref).is_file()


def test_saved_dataset_folder_with_decoded_images_loads(tmp_path):
    import datasets

    rows = _with_bytes(_rows("chartqa"), FIXTURES / "chartqa")
    ds = datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
    datasets.DatasetDict({"test": ds}).save_to_disk(str(tmp_path / "saved"))
    samples = list(iter_samples(get_benchmark("chartqa"), str(tmp_path / "saved"), "test", tmp_path / "out"))
    assert [s["answer"] for s in samples] == ["26", "45%", "Orange", "0"]
    assert all((tmp_path / "out" / s["images"][0]).is_file() for s in samples)


def test_missing_required_field_names_file_line_and_field(tmp_path):
    rows = _rows("mathverse")
    del rows[2]["answer"]
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    _copy_images("mathverse", tmp_path)
    with pytest.raises(DataError, match=r"bad.jsonl:3: answer: required field is missing"):
        list(iter_samples(get_benchmark("mathverse"), str(src), "testmini", tmp_path / "out"))


def test_missing_image_file_is_an_error_naming_the_field(tmp_path):
    src = tmp_path / "k.jsonl"
    src.write_text(json.dumps({"id": "a", "question": "q", "answer": "1", "image": "nope.png"}) + "\n")
    with pytest.raises(DataError, match=r"k.jsonl:1: image: image file not found"):
        list(iter_samples(get_benchmark("k12"), str(src), "test", tmp_path / "out"))


def test_bad_value_in_a_row_is_an_error_naming_the_field(tmp_path):
    data = json.loads(Path(fixture_path("mathvista")).read_text())
    data["2"]["answer_type"] = "fraction"
    src = tmp_path / "mv.json"
    src.write_text(json.dumps(data))
    _copy_images("mathvista", tmp_path)
    with pytest.raises(DataError, match=r"mv.json:2: answer_type: must be one of text, integer"):
        list(iter_samples(get_benchmark("mathvista"), str(src), "testmini", tmp_path / "out"))


def test_duplicate_ids_are_refused(tmp_path):
    rows = _rows("k12")
    rows[1]["id"] = rows[0]["id"]
    src = tmp_path / "dup.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    _copy_images("k12", tmp_path)
    with pytest.raises(DataError, match=r"dup.jsonl:2: id: duplicate id 'k12-1'"):
        list(iter_samples(get_benchmark("k12"), str(src), "test", tmp_path / "out"))


def test_hub_unreachable_says_to_pass_a_local_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(ConfigError, match=r"cannot load AI4Math/MathVista split 'testmini'.*--data PATH"):
        list(iter_samples(get_benchmark("mathvista"), None, "testmini", tmp_path))


def test_every_sample_is_a_valid_spec_sample(samples_of, tmp_path):
    from mmrl.io.schema import check_sample

    for bench in ("mathvista", "mathverse", "mathvision", "chartqa", "k12", "geometry3k"):
        for s in samples_of(bench).values():
            assert check_sample(s) == [], (bench, s["id"])
