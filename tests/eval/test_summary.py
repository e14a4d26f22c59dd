"""Summaries: accuracy, breakdowns as the papers report them, pass@k, unscored items."""
from __future__ import annotations

import pytest

from mmrl.eval.benchmark import get_benchmark
from mmrl.eval.summary import summarize, summary_table


def row(rid, correct, sample=0, **meta):
    return {"id": rid, "sample": sample, "correct": correct, "finish_reason": "stop", "num_tokens": 10,
            "rule": "answer_tag", "meta": meta}


def test_accuracy_and_breakdowns_with_list_valued_skills():
    rows = [
        row("1", True, question_type="multi_choice", skills=["a", "b"]),
        row("2", False, question_type="free_form", skills=["b"]),
        row("3", True, question_type="free_form", skills=[]),
    ]
    s = summarize(get_benchmark("mathvista"), rows, model="m", split="testmini")
    assert (s["benchmark"], s["model"], s["n"], s["accuracy"], s["judge"]) == ("mathvista", "m", 3, 2 / 3, None)
    assert s["breakdowns"]["question_type"] == {
        "free_form": {"accuracy": 0.5, "correct": 1, "total": 2},
        "multi_choice": {"accuracy": 1.0, "correct": 1, "total": 1},
    }
    assert s["breakdowns"]["skills"]["a"]["total"] == 1 and s["breakdowns"]["skills"]["b"]["correct"] == 1


def test_unscored_items_are_counted_apart_and_left_out_of_accuracy():
    s = summarize(get_benchmark("mathvista"), [row("1", True), row("2", None)])
    assert (s["accuracy"], s["n"], s["unscored"]) == (1.0, 1, 1)


def test_no_scored_items_gives_no_accuracy():
    assert summarize(get_benchmark("chartqa"), [row("1", None)])["accuracy"] is None


def test_several_draws_per_item_add_pass_at_k_and_accuracy_is_mean_over_draws():
    rows = [row("1", c, i) for i, c in enumerate([True, False, False, False])]
    rows += [row("2", c, i) for i, c in enumerate([True, True, True, True])]
    s = summarize(get_benchmark("k12"), rows)
    assert s["accuracy"] == pytest.approx(5 / 8)
    # item 1: 1 of 4 right -> pass@2 = 1 - C(3,2)/C(4,2) = 0.5; item 2 always right
    assert s["pass_at_k"] == pytest.approx({"1": 0.625, "2": 0.75, "4": 1.0})


def test_table_shows_overall_and_each_breakdown_value():
    from rich.console import Console

    s = summarize(get_benchmark("mathverse"), [row("1", True, problem_version="Vision Only")], model="m")
    console = Console(record=True, width=120)
    console.print(summary_table(s))
    text = console.export_text()
    assert "overall" in text and "Vision Only" in text and "100.0" in text and "judge: none" in text
