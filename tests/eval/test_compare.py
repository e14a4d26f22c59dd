"""``eval compare``: side-by-side summaries with per-category deltas."""
from __future__ import annotations

import json

import pytest

from mmrl.errors import DataError
from mmrl.eval.compare import comparison_rows, load_summary


def summary(acc, cells):
    return {"benchmark": "mathvista", "accuracy": acc, "draws": 10,
            "breakdowns": {"question_type": {k: {"accuracy": v, "correct": 0, "total": 5} for k, v in cells.items()}}}


def test_deltas_are_against_the_first_run_per_category():
    rows = comparison_rows([summary(0.5, {"multi_choice": 0.6, "free_form": 0.4}),
                            summary(0.6, {"multi_choice": 0.8, "free_form": 0.4})])
    by = {(r["group"], r["value"]): r for r in rows}
    assert by[("overall", "")]["deltas"] == [pytest.approx(0.1)]
    assert by[("question_type", "multi_choice")]["deltas"] == [pytest.approx(0.2)]
    assert by[("question_type", "free_form")]["deltas"] == [0.0]


def test_a_category_missing_from_a_run_has_no_delta():
    rows = comparison_rows([summary(0.5, {"a": 0.5}), summary(0.5, {"b": 0.5})])
    by = {(r["group"], r["value"]): r for r in rows}
    assert by[("question_type", "a")]["runs"][1] is None and by[("question_type", "a")]["deltas"] == [None]


def test_load_summary_accepts_a_folder_and_refuses_other_json(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(summary(0.5, {})))
    assert load_summary(tmp_path)["accuracy"] == 0.5
    bad = tmp_path / "other.json"
    bad.write_text("{}")
    with pytest.raises(DataError, match="not an eval summary: required field is missing"):
        load_summary(bad)


def test_runs_on_different_data_and_item_counts_are_flagged():
    from mmrl.eval.compare import comparability_warnings

    a = {**summary(0.5, {}), "data": "test.jsonl", "n": 48, "sampling": {"temperature": 0.0}}
    b = {**summary(0.6, {}), "data": "other.jsonl", "n": 24, "sampling": {"temperature": 0.0}}
    warnings = comparability_warnings(["base", "sft"], [a, b])
    assert len(warnings) == 2
    assert "data file: other.jsonl vs test.jsonl" in warnings[0] and "number of items: 24 vs 48" in warnings[1]


def test_like_for_like_runs_raise_no_warning():
    from mmrl.eval.compare import comparability_warnings

    a = {**summary(0.5, {}), "data": "t.jsonl", "n": 48, "sampling": {"temperature": 0.0}}
    assert comparability_warnings(["base", "sft"], [a, {**a, "accuracy": 0.7}]) == []


def test_different_decoding_is_flagged():
    from mmrl.eval.compare import comparability_warnings

    a = {**summary(0.5, {}), "sampling": {"temperature": 0.0}}
    b = {**summary(0.5, {}), "sampling": {"temperature": 1.0}}
    assert "decoding settings" in comparability_warnings(["a", "b"], [a, b])[0]


def test_the_table_shows_the_draws_behind_each_accuracy(tmp_path):
    from rich.console import Console

    from mmrl.eval.compare import comparison_table

    summaries = [summary(0.5, {}), {**summary(0.75, {}), "draws": 24}]
    console = Console(record=True, width=200)
    console.print(comparison_table(["base", "sft"], summaries, comparison_rows(summaries)))
    text = console.export_text()
    assert "50.0 (10)" in text and "75.0 (24)" in text
