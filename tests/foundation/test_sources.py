"""Reading rows where users keep them: JSONL, Parquet files and folders, save_to_disk folders."""
from __future__ import annotations

import io
import json

import pytest
from tests.formats import image, save_dataset, write_parquet

from mmrl.errors import ConfigError, DataError
from mmrl.io.jsonl import Located
from mmrl.io.sources import DATASET, JSONL, PARQUET, open_source


def _rows(source) -> list[Located]:
    out = list(source.rows())
    assert all(isinstance(r, Located) for r in out), out
    return out


def test_parquet_rows_are_located_by_file_and_0_based_row(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a"}, {"id": "b"}])
    rows = _rows(open_source(f))
    assert [(r.record["id"], r.path, r.line, r.unit) for r in rows] == [("a", str(f), 0, "row"), ("b", str(f), 1, "row")]


def test_a_row_error_reads_path_row_n(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a"}, {"id": "b"}])
    assert str(_rows(open_source(f))[1].error("required field is missing", "answer")) == \
        f"{f}:row 1: answer: required field is missing"


def test_parquet_is_streamed_in_batches_not_read_whole(tmp_path, monkeypatch):
    import mmrl.io.sources as sources

    monkeypatch.setattr(sources, "BATCH_ROWS", 2)
    f = write_parquet(tmp_path / "d.parquet", [{"id": str(i)} for i in range(5)])
    sizes = []
    real = sources._parquet_batches

    def spy(path):
        for batch in real(path):
            sizes.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(sources, "_parquet_batches", spy)
    assert len(list(open_source(f).rows())) == 5 and sizes == [2, 2, 1]


def test_image_structs_come_as_stored_bytes(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a", "images": [image("red")]}])
    (row,) = _rows(open_source(f))
    assert row.record["images"][0]["bytes"].startswith(b"\x89PNG") and row.record["images"][0]["path"] == "red.png"


def test_parquet_folder_split_is_chosen_by_file_name(tmp_path):
    write_parquet(tmp_path / "hub" / "data" / "train-00000-of-00002.parquet", [{"id": "t0"}])
    write_parquet(tmp_path / "hub" / "data" / "train-00001-of-00002.parquet", [{"id": "t1"}])
    write_parquet(tmp_path / "hub" / "data" / "test-00000-of-00001.parquet", [{"id": "x0"}])
    source = open_source(tmp_path / "hub", split="train")
    assert source.kind == PARQUET and [r.record["id"] for r in _rows(source)] == ["t0", "t1"]


def test_a_folder_with_several_splits_needs_split(tmp_path):
    write_parquet(tmp_path / "hub" / "train.parquet", [{"id": "t0"}])
    write_parquet(tmp_path / "hub" / "test.parquet", [{"id": "x0"}])
    with pytest.raises(ConfigError, match=r"hub: holds splits test, train; choose one with --split"):
        open_source(tmp_path / "hub")


def test_an_unknown_split_is_refused_naming_those_there(tmp_path):
    write_parquet(tmp_path / "hub" / "train.parquet", [{"id": "t0"}])
    write_parquet(tmp_path / "hub" / "test.parquet", [{"id": "x0"}])
    with pytest.raises(ConfigError, match=r"no split 'validation'; it has test, train"):
        open_source(tmp_path / "hub", split="validation")


def test_a_folder_without_split_names_is_read_whole(tmp_path):
    write_parquet(tmp_path / "parts" / "part-0.parquet", [{"id": "a"}])
    write_parquet(tmp_path / "parts" / "part-1.parquet", [{"id": "b"}])
    assert [r.record["id"] for r in _rows(open_source(tmp_path / "parts"))] == ["a", "b"]


def test_saved_dataset_dict_reads_the_split_asked_for(tmp_path):
    save_dataset(tmp_path / "ds", {"train": [{"id": "t0"}, {"id": "t1"}], "test": [{"id": "x0"}]})
    source = open_source(tmp_path / "ds", split="test")
    rows = _rows(source)
    assert source.kind == DATASET and [r.record["id"] for r in rows] == ["x0"]
    assert (rows[0].path, rows[0].line) == (str(tmp_path / "ds" / "test"), 0)


def test_saved_dataset_dict_with_several_splits_needs_split(tmp_path):
    save_dataset(tmp_path / "ds", {"train": [{"id": "t0"}], "test": [{"id": "x0"}]})
    with pytest.raises(ConfigError, match=r"holds splits test, train; choose one with --split"):
        open_source(tmp_path / "ds")


def test_saved_dataset_keeps_image_bytes_undecoded(tmp_path):
    save_dataset(tmp_path / "ds", [{"id": "a", "images": [image("blue")]}])
    (row,) = _rows(open_source(tmp_path / "ds"))
    assert row.record["images"][0]["bytes"].startswith(b"\x89PNG")


def test_split_of_a_single_file_is_refused(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a"}])
    with pytest.raises(ConfigError, match=r"this is one file: drop --split"):
        open_source(f, split="train")


def test_split_of_a_single_file_is_ignored_when_not_strict(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": "a"}])
    assert len(_rows(open_source(f, split="testmini", strict=False))) == 1


def test_a_missing_path_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"nope.parquet: no such file or folder"):
        open_source(tmp_path / "nope.parquet")


def test_a_file_that_is_not_parquet_is_a_data_error_naming_it(tmp_path):
    f = tmp_path / "d.parquet"
    f.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=rf"{f}: cannot read"):
        list(open_source(f).rows())


def test_stdin_can_be_read_twice(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"id": "a"}) + "\n" + json.dumps({"id": "b"}) + "\n"))
    source = open_source("-")
    first = [(r.record["id"], r.path, r.line) for r in _rows(source)]
    assert source.kind == JSONL and first == [("a", "<stdin>", 1), ("b", "<stdin>", 2)]
    assert [(r.record["id"], r.path, r.line) for r in _rows(source)] == first


def test_parquet_row_count_comes_from_metadata(tmp_path):
    f = write_parquet(tmp_path / "d.parquet", [{"id": str(i)} for i in range(7)])
    assert open_source(f).count() == 7
