"""Grading scored draws: records, filtering, errors, the command line."""
from __future__ import annotations

import json

import pytest

from mmrl.errors import DataError
from mmrl.grading import GradeConfig, grade_groups, group_draws, parse_band, parse_buckets
from mmrl.io.jsonl import Located, read_jsonl
from mmrl.io.schema import check_graded


def draw(sid, j, acc, total=None, **extra):
    return {"id": sid, "question": "q?", "answer": "1", "source": extra.pop("source", "s1"), "sample": j,
            "response": "r", "finish_reason": "stop", "num_tokens": 3, "model": "m", "extracted": "1",
            "rewards": {"accuracy": acc, "format": 1.0, "style": 1.0, "total": acc if total is None else total},
            **extra}


def located(records, path="in.jsonl"):
    return [Located(r, path, i) for i, r in enumerate(records, start=1)]


# a: 2 of 4 correct; b: 0 of 4; c: 4 of 4 (and a human label)
DRAWS = ([draw("a", j, float(j % 2)) for j in range(4)] + [draw("b", j, 0.0, source="s2") for j in range(4)]
         + [draw("c", j, 1.0, difficulty=0.8) for j in range(4)])


def test_graded_records_follow_the_spec():
    result = grade_groups(group_draws(located(DRAWS)), GradeConfig(ks=(1, 2, 8)))
    a, b, c = result.kept
    assert (a["n"], a["correct"], a["pass_at_k"], a["mean_reward"], a["difficulty"]) == (
        4, 2, {"1": 0.5, "2": pytest.approx(1 - 1 / 6)}, 0.5, 0.5)
    assert (b["correct"], b["difficulty"], b["pass_at_k"]["2"]) == (0, 1.0, 0.0)
    for r in result.kept:
        assert check_graded(r) == []
        assert not {"sample", "response", "rewards", "extracted", "finish_reason"} & set(r)
    assert a["question"] == "q?" and b["source"] == "s2"


def test_human_difficulty_is_merged_and_both_kept():
    c = grade_groups(group_draws(located(DRAWS)), GradeConfig(human_weight=0.25)).kept[2]
    assert (c["difficulty_measured"], c["difficulty_human"]) == (0.0, 0.8)
    assert c["difficulty"] == pytest.approx(0.2)


def test_accuracy_band_drops_always_and_never_solved():
    result = grade_groups(group_draws(located(DRAWS)), GradeConfig(keep=parse_band("0.1:0.9")))
    assert [r["id"] for r in result.kept] == ["a"] and [r["id"] for r in result.dropped] == ["b", "c"]


def test_buckets_label_levels():
    result = grade_groups(group_draws(located(DRAWS)), GradeConfig(buckets=parse_buckets("easy,medium,hard")))
    # c: measured 0.0 blended half-and-half with its human label 0.8 -> 0.4, a medium prompt
    assert [r["level"] for r in result.kept] == ["medium", "hard", "medium"]


def test_draws_are_grouped_in_any_order():
    shuffled = DRAWS[::-1]
    groups = group_draws(located(shuffled))
    assert [g.id for g in groups] == ["c", "b", "a"] and all(len(g.draws) == 4 for g in groups)


def test_verifier_errors_count_as_wrong_and_are_reported():
    records = [draw("a", 0, 0.0, total=0.0, error="timeout"), draw("a", 1, 1.0)]
    result = grade_groups(group_draws(located(records)), GradeConfig(ks=(1,)))
    assert result.errors == 1 and result.kept[0]["correct"] == 1


def test_a_draw_a_gate_zeroed_is_not_correct():
    # right answers, but the format gate set one total to 0 (GLM-4.1V): one solve of two, not two
    records = [draw("a", 0, 1.0, total=0.0, gate="format"), draw("a", 1, 1.0)]
    graded = grade_groups(group_draws(located(records)), GradeConfig(ks=(1,))).kept[0]
    assert graded["correct"] == 1 and graded["pass_at_k"]["1"] == 0.5 and "gate" not in graded


def test_unscored_record_names_file_line_and_field():
    bad = dict(DRAWS[1])
    bad.pop("rewards")
    with pytest.raises(DataError, match=r"in.jsonl:2: rewards: required object is missing \(grade reads scored"):
        group_draws(located([DRAWS[0], bad]))


def test_duplicate_draw_is_an_error():
    with pytest.raises(DataError, match=r"in.jsonl:2: sample: duplicate draw 0 of id 'a' \(first on line 1\)"):
        group_draws(located([DRAWS[0], DRAWS[0]]))


@pytest.fixture
def scored_file(tmp_path):
    path = tmp_path / "scored.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in DRAWS))
    return path


def test_cli_grade_with_band_buckets_plot_and_metrics(cli, scored_file, tmp_path):
    out, png, dropped = tmp_path / "g.jsonl", tmp_path / "h.png", tmp_path / "dropped.jsonl"
    result = cli("grade", str(scored_file), "-o", str(out), "--keep", "0.1:0.9", "--buckets", "easy,hard",
                 "--plot", str(png), "--dropped", str(dropped))
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_jsonl(out)] == ["a"]
    assert [r["id"] for r in read_jsonl(dropped)] == ["b", "c"]
    assert "grade by source" in result.output and "s2" in result.output and "2 dropped" in result.output
    from PIL import Image

    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (720, 420)
    metrics = json.loads((tmp_path / "g.metrics.json").read_text())
    assert metrics["kept"] == 1 and metrics["by_source"]["(all)"]["prompts"] == 3


def test_cli_grade_reads_stdin_and_writes_stdout(cli, scored_file):
    result = cli("grade", "-", "--k", "1,2", input=scored_file.read_text())
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["pass_at_k"]["2"] for r in rows] == [pytest.approx(5 / 6), 0.0, 1.0]


def test_cli_grade_bad_input_exits_2(cli, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q"}) + "\n")
    result = cli("grade", str(path))
    assert result.exit_code == 2 and f"{path}:1: sample: required field is missing" in result.output


def test_cli_grade_bad_k_exits_2(cli, scored_file):
    result = cli("grade", str(scored_file), "--k", "0,x")
    assert result.exit_code == 2 and "--k" in result.output
