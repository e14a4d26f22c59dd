"""The offline difficulty band (MM-Eureka's 0/1 filter) refuses ungraded data unless told to keep it."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mmrl.errors import DataError
from mmrl.rl.trainer import load_data


def test_a_band_over_ungraded_samples_is_an_error_naming_file_line_and_field(rl_config, parity_file):
    with pytest.raises(DataError) as err:
        load_data(rl_config(difficulty_band="0.01:0.99"), main=True)
    text = str(err.value)
    assert parity_file in text and ":1:" in text and "difficulty" in text and "--allow-ungraded" in text


def test_allow_ungraded_keeps_them_with_a_notice_that_counts_them(rl_config, caplog):
    with caplog.at_level(logging.WARNING):
        items, _ = load_data(rl_config(difficulty_band="0.01:0.99", allow_ungraded=True), main=True)
    assert f"{len(items)} of {len(items)} samples have no difficulty" in caplog.text


def test_graded_samples_need_no_permission(rl_config, parity_file):
    lines = Path(parity_file).read_text(encoding="utf-8").splitlines()
    graded = Path(parity_file).with_name("graded_band.jsonl")  # beside the images the samples name
    graded.write_text("".join(json.dumps({**json.loads(line), "difficulty": 0.5}) + "\n" for line in lines))
    items, _ = load_data(rl_config(data=str(graded), difficulty_band="0.01:0.99"), main=True)
    assert len(items) == len(lines)
