"""Box geometry and the iou/map verifiers."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.boxes import (
    LabeledBox,
    iou,
    matched_iou_score,
    mean_average_precision,
    normalize_box,
    size_penalty,
    threshold_at,
)
from mmrl.rewards.detection import parse_boxes


def test_iou_of_half_overlapping_boxes():
    # intersection 5x10 = 50, union 100 + 100 - 50 = 150
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_iou_uses_continuous_area():
    assert iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    assert iou((0, 0, 1, 1), (1, 0, 2, 1)) == 0.0  # touching edges share no area


def test_corners_are_normalised():
    assert normalize_box([10, 10, 0, 0]) == (0, 0, 10, 10)


def test_zero_area_union_gives_zero():
    assert iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0


def test_bad_boxes_are_refused():
    with pytest.raises(ValueError):
        normalize_box([1, 2, 3])
    with pytest.raises(ValueError):
        normalize_box([0, 0, float("inf"), 1])


# the bounds are inclusive, as V-Triune's reward_server/verify.py: step_ratio <= 0.1 -> 0.85, <= 0.25 -> 0.95
@pytest.mark.parametrize("progress, thr", [(0.0, 0.85), (0.1, 0.85), (0.11, 0.95), (0.25, 0.95), (0.26, 0.99),
                                           (1.0, 0.99)])
def test_dynamic_iou_schedule(progress, thr):
    assert threshold_at("dynamic", progress) == thr


def test_custom_schedule_and_fixed_threshold():
    assert threshold_at([[0.5, 0.3], [1.0, 0.7]], 0.6) == 0.7
    assert threshold_at(0.4, 0.9) == 0.4


def test_size_penalty():
    assert size_penalty(3, 3) == 1.0
    assert size_penalty(5, 3) == pytest.approx(0.36)


def test_map_perfect_and_empty():
    gt = [LabeledBox("a", (0, 0, 10, 10))]
    assert mean_average_precision(gt, gt) == 1.0
    assert mean_average_precision([], []) == 1.0
    assert mean_average_precision([], gt) == 0.0


def test_map_with_one_false_positive_ranked_first():
    gt = [LabeledBox("a", (0, 0, 10, 10))]
    preds = [LabeledBox("a", (50, 50, 60, 60), 0.9), LabeledBox("a", (0, 0, 10, 10), 0.8)]
    # ranked: miss then hit -> precision 1/2 at recall 1
    assert mean_average_precision(preds, gt, [0.5]) == pytest.approx(0.5)


def test_map_counts_a_hallucinated_label_as_zero():
    gt = [LabeledBox("a", (0, 0, 10, 10))]
    preds = gt + [LabeledBox("b", (20, 20, 30, 30))]
    assert mean_average_precision(preds, gt, [0.5]) == pytest.approx(0.5)


def test_map_over_thresholds():
    gt = [LabeledBox("a", (0, 0, 10, 10))]
    pred = [LabeledBox("a", (0, 0, 10, 8))]  # IoU 0.8: a hit at 0.50..0.80, a miss at 0.85..0.95
    assert mean_average_precision(pred, gt) == pytest.approx(0.7)


def test_matched_iou_score_thresholds_each_match():
    gt = [LabeledBox("a", (0, 0, 10, 10)), LabeledBox("a", (20, 0, 30, 10))]
    preds = [LabeledBox("a", (0, 0, 10, 10)), LabeledBox("a", (20, 0, 30, 4))]  # IoUs 1.0 and 0.4
    assert matched_iou_score(preds, gt, 0.5) == pytest.approx(0.5)


def test_parse_qwen_style_json():
    text = '```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "Cat"}]\n```'
    assert parse_boxes(text) == [LabeledBox("cat", (1, 2, 3, 4))]


def test_parse_loose_labelled_boxes():
    text = "{label: 'dog', box: [0, 0, 5, 5]}, {label: 'cat', box: [5, 5, 9, 9],}"
    assert [b.label for b in parse_boxes(text)] == ["dog", "cat"]


def run(name, said, answer, **params):
    return VERIFIERS.get(name)(f"<answer>{said}</answer>", {"answer": answer}, params)


def test_iou_verifier_gives_the_iou_above_the_threshold():
    assert run("iou", "[0, 0, 10, 8]", [0, 0, 10, 10]).accuracy == pytest.approx(0.8)


def test_iou_verifier_gives_zero_below_the_threshold():
    result = run("iou", "[0, 0, 10, 4]", [0, 0, 10, 10], iou_threshold=0.5)
    assert result.accuracy == 0.0 and result.components["iou"] == pytest.approx(0.4)


def test_iou_verifier_follows_the_dynamic_schedule():
    assert run("iou", "[0, 0, 10, 9]", [0, 0, 10, 10], iou_threshold="dynamic", progress=0.05).accuracy == 0.9
    assert run("iou", "[0, 0, 10, 9]", [0, 0, 10, 10], iou_threshold="dynamic", progress=0.5).accuracy == 0.0


def test_iou_verifier_binary_mode():
    assert run("iou", "[0, 0, 10, 9]", [0, 0, 10, 10], binary=True).accuracy == 1.0


def test_iou_verifier_reads_two_corner_points():
    assert run("iou", "(0, 0), (10, 10)", [0, 0, 10, 10]).accuracy == 1.0


def test_iou_verifier_without_a_box_scores_zero():
    assert run("iou", "no idea", [0, 0, 10, 10]).accuracy == 0.0


def test_map_verifier_applies_the_size_penalty():
    gold = [{"label": "a", "box": [0, 0, 10, 10]}]
    said = '[{"label": "a", "box": [0, 0, 10, 10]}, {"label": "a", "box": [50, 50, 60, 60]}]'
    result = run("map", said, gold)
    # AP: hit first then a miss -> 1.0; penalty 0.6^1
    assert result.components["map"] == 1.0 and result.accuracy == pytest.approx(0.6)


def test_map_verifier_vtriune_mode():
    gold = [{"label": "a", "box": [0, 0, 10, 10]}]
    result = run("map", '[{"label": "a", "box": [0, 0, 10, 8]}]', gold, mode="vtriune", iou_threshold=0.5)
    assert result.accuracy == pytest.approx(0.8)


def test_map_verifier_can_ignore_labels():
    gold = [{"label": "a", "box": [0, 0, 10, 10]}]
    assert run("map", '[{"label": "b", "box": [0, 0, 10, 10]}]', gold, ignore_labels=True).accuracy == 1.0


def test_map_mode_honours_the_iou_threshold():
    # IoU 0.8: counted at COCO's 0.5..0.8 (7 of 10 thresholds) without a bar, never above a 0.85 bar
    gold = [{"label": "a", "box": [0, 0, 10, 10]}]
    said = '[{"label": "a", "box": [0, 0, 10, 8]}]'
    assert run("map", said, gold).components["map"] == pytest.approx(0.7)
    assert run("map", said, gold, iou_threshold=0.85).components["map"] == 0.0
    assert run("map", said, gold, iou_threshold=0.75).components["map"] == pytest.approx(2 / 5)  # 0.75, 0.8 of 5


def test_map_mode_follows_the_dynamic_schedule():
    gold = [{"label": "a", "box": [0, 0, 10, 10]}]
    said = '[{"label": "a", "box": [0, 0, 10, 9]}]'  # IoU 0.9
    early = run("map", said, gold, iou_threshold="dynamic", progress=0.05).accuracy  # bar 0.85: 0.85, 0.9 hit
    late = run("map", said, gold, iou_threshold="dynamic", progress=0.5).accuracy   # bar 0.99: missed
    assert early == pytest.approx(2 / 3) and late == 0.0
