"""The one reader of samples: rows of any source as checked sample records, located for errors."""
from __future__ import annotations

import json

import pytest
from tests.formats import image, sample_rows, save_dataset, verl_rows, write_parquet

from mmrl.errors import DataError
from mmrl.io.samples import open_samples, validate_source


def test_embedded_image_bytes_come_as_data_uris_that_pass_every_check(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", sample_rows(2))
    samples = open_samples(f)
    assert samples.check() == 2
    assert all(item.record["images"][0].startswith("data:image/png;base64,") for item in samples)


def test_a_saved_dataset_with_image_features_reads_as_samples(tmp_path):
    save_dataset(tmp_path / "ds", {"train": sample_rows(3), "test": sample_rows(1)})
    items = open_samples(tmp_path / "ds", split="train").read_all()
    assert [i.record["id"] for i in items] == ["s0", "s1", "s2"]
    assert items[0].record["images"][0].startswith("data:image/png;base64,")


def test_a_bad_row_is_reported_as_path_row_field_reason(tmp_path):
    rows = sample_rows(3)
    rows[2]["images"] = [{"bytes": b"\x89PNG\r\n\x1a\nbroken", "path": "x.png"}]
    f = write_parquet(tmp_path / "d.parquet", rows)
    with pytest.raises(DataError) as e:
        open_samples(f).check()
    assert str(e.value).startswith(f"{f}:row 2: images[0]: cannot decode image data URI")


def test_null_columns_of_a_row_are_absent_fields(tmp_path):
    rows = [{"id": "a", "question": "q", "choices": ["x", "y"]}, {"id": "b", "question": "q", "choices": None}]
    f = write_parquet(tmp_path / "d.parquet", rows)
    items = open_samples(f).read_all()
    assert "choices" not in items[1].record


def test_rows_without_an_id_are_named_by_file_and_row(tmp_path):
    f = write_parquet(tmp_path / "train-00000-of-00001.parquet", [{"question": "q"}, {"question": "r"}])
    assert [i.record["id"] for i in open_samples(f)] == ["train-00000-of-00001-0", "train-00000-of-00001-1"]


def test_verl_rows_read_without_any_mapping(tmp_path):
    save_dataset(tmp_path / "verl", verl_rows(2))
    items = open_samples(tmp_path / "verl").read_all()
    r = items[1].record
    assert (r["id"], r["question"], r["answer"], r["source"]) == ("verl-1", "<image>What is x?", "2", "geo3k")


def test_a_binary_column_left_unmapped_is_refused_naming_it(tmp_path):
    rows = [{"id": "a", "question": "q", "decoded_image": image("red")}]
    f = write_parquet(tmp_path / "d.parquet", rows)
    with pytest.raises(DataError, match=rf"{f}:row 0: decoded_image.bytes: holds binary data.*--columns images="):
        open_samples(f).check()


def test_columns_map_an_image_column_of_another_name(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a", "question": "q", "decoded_image": image("red")}])
    (item,) = open_samples(f, columns={"images": "decoded_image"}).read_all()
    assert item.record["images"][0].startswith("data:image/png")


def test_an_ambiguous_row_is_refused_at_its_row(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a", "problem": "p", "prompt": "q"}])
    with pytest.raises(DataError, match=rf"{f}:row 0: question: ambiguous"):
        open_samples(f).check()


def test_a_duplicate_id_names_the_row_it_repeats(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a", "question": "q"}, {"id": "a", "question": "r"}])
    with pytest.raises(DataError, match=rf"{f}:row 1: id: duplicate id 'a' \(first on row 0\)"):
        open_samples(f).check()


def test_a_nan_from_a_float_column_is_refused(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a", "question": "q", "difficulty": float("nan")}])
    with pytest.raises(DataError, match=rf"{f}:row 0: difficulty: NaN is not valid JSON"):
        open_samples(f).check()


def test_validation_lists_every_problem_of_every_row(tmp_path):
    rows = [{"id": "a", "question": "q", "difficulty": d} for d in (2.0, 0.5, -1.0)]
    rows[1]["id"] = "b"
    count, errors = validate_source(write_parquet(tmp_path / "d.parquet", rows))
    assert count == 3 and [str(e) for e in errors] == [
        f"{tmp_path / 'd.parquet'}:row 0: difficulty: must be a number in [0, 1]",
        f"{tmp_path / 'd.parquet'}:row 2: difficulty: must be a number in [0, 1]",
        f"{tmp_path / 'd.parquet'}:row 2: id: duplicate id 'a' (first on row 0)"]


def test_jsonl_records_keep_relative_image_paths(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps({"id": "a", "question": "q", "images": ["img/a.png"]}) + "\n")
    (item,) = open_samples(f)
    assert item.record["images"] == ["img/a.png"] and (item.path, item.line, item.unit) == (str(f), 1, "line")


def test_checking_embedded_images_keeps_no_image_as_a_cache_key(tmp_path):
    from mmrl.io import references

    references._file_problem.cache_clear()
    open_samples(write_parquet(tmp_path / "d.parquet", sample_rows(3))).check()
    assert references._file_problem.cache_info().currsize == 0
    assert references._uri_verdicts and all(isinstance(digest, bytes) for digest, _ in references._uri_verdicts)


def test_a_duplicate_id_in_another_file_of_a_folder_names_that_file(tmp_path):
    first = write_parquet(tmp_path / "shards" / "part-0.parquet", [{"id": "a", "question": "q"}])
    second = write_parquet(tmp_path / "shards" / "part-1.parquet", [{"id": "b", "question": "q"},
                                                                     {"id": "a", "question": "q"}])
    with pytest.raises(DataError, match=rf"{second}:row 1: id: duplicate id 'a' \(first on {first}:row 0\)"):
        open_samples(tmp_path / "shards").check()
