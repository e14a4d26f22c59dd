"""grpo's samples: any source the shared loader reads, every problem listed before a model loads."""
from __future__ import annotations

import pytest
from tests.formats import sample_rows, save_dataset, verl_rows, write_parquet

from mmrl.errors import DataErrors
from mmrl.rewards import RewardConfig
from mmrl.rl.data import load_samples


def test_a_split_of_a_saved_verl_dataset_loads_with_its_columns_mapped(tmp_path):
    save_dataset(tmp_path / "geo3k", {"train": verl_rows(3), "test": verl_rows(1)})
    items = load_samples(str(tmp_path / "geo3k"), RewardConfig(), split="train")
    assert [(i.record["id"], i.record["answer"]) for i in items] == [("train-0", "1"), ("train-1", "2"), ("train-2", "3")]


def test_columns_given_for_the_run_are_applied(tmp_path):
    rows = [{**r, "final": r.pop("answer")} for r in sample_rows(2)]
    items = load_samples(str(write_parquet(tmp_path / "d.parquet", rows)), RewardConfig(), columns={"answer": "final"})
    assert [i.record["answer"] for i in items] == ["0", "1"]


def test_every_bad_row_is_listed_at_its_row(tmp_path):
    rows = sample_rows(3, reward={"verifier": "math"})
    rows[0]["reward"] = {"verifier": "nope"}
    rows[2]["reward"] = {"verifier": "nope"}
    src = write_parquet(tmp_path / "d.parquet", rows)
    with pytest.raises(DataErrors) as e:
        load_samples(str(src), RewardConfig())
    assert [f"{x.path}:{x.unit} {x.line}" for x in e.value.errors] == [f"{src}:row 0", f"{src}:row 2"]
