"""Box geometry for grounding and detection rewards: pure functions on ``(x1, y1, x2, y2)``.

Conventions: continuous area (a box from 0 to 10 is 10 wide, not 11), corners normalised (a box
given as ``[x2, y2, x1, y1]`` is the same box), and a zero-area union gives IoU 0 rather than a
division by zero. mAP is all-point interpolated average precision, averaged over labels and
IoU thresholds (COCO's 0.50:0.05:0.95 by default); a label predicted but absent from the
reference counts with AP 0, so hallucinated classes cost reward.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Box = tuple[float, float, float, float]

COCO_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
# V-Triune's dynamic IoU: 0.85 up to 10% of training, 0.95 up to 25%, then 0.99 (verify.py: <= 0.1, <= 0.25).
DYNAMIC_IOU = ((0.10, 0.85), (0.25, 0.95), (1.0, 0.99))


@dataclass(frozen=True)
class LabeledBox:
    label: str
    box: Box
    score: float = 1.0


def normalize_box(values: Sequence[Any]) -> Box:
    """Four finite numbers as a box with ``x1 <= x2`` and ``y1 <= y2``."""
    if len(values) != 4:
        raise ValueError(f"a box has 4 coordinates, got {len(values)}")
    try:
        x1, y1, x2, y2 = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"box coordinates must be numbers, got {list(values)!r}") from None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise ValueError("box coordinates must be finite")
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two normalised boxes; 0 when the union has no area."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def threshold_at(schedule: Any, progress: float) -> float:
    """The IoU threshold in force at ``progress`` (0..1 of training).

    ``schedule`` is a number (fixed), ``"dynamic"`` (V-Triune's 0.85/0.95/0.99), or pairs
    ``[[upto, threshold], ...]`` in increasing ``upto``: the first pair whose ``upto`` the progress
    does not exceed applies (``upto`` is inclusive, as V-Triune's reward_server/verify.py reads
    ``step_ratio <= 0.1``), and the last pair applies beyond.
    """
    if isinstance(schedule, (int, float)) and not isinstance(schedule, bool):
        return float(schedule)
    if schedule == "dynamic":
        schedule = DYNAMIC_IOU
    if isinstance(schedule, Mapping):
        schedule = sorted((float(k), float(v)) for k, v in schedule.items())
    if not isinstance(schedule, (list, tuple)) or not schedule:
        raise ValueError(f"iou_threshold must be a number, 'dynamic' or [[upto, threshold], ...], got {schedule!r}")
    pairs = []
    for item in schedule:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"iou_threshold schedule entries are [upto, threshold], got {item!r}")
        pairs.append((float(item[0]), float(item[1])))
    for upto, thr in pairs:
        if progress <= upto:
            return thr
    return pairs[-1][1]


def size_penalty(n_pred: int, n_gt: int, base: float = 0.6) -> float:
    """V-Triune's penalty for predicting the wrong number of objects: ``base ** |n_pred - n_gt|``."""
    return base ** abs(n_pred - n_gt)


def _average_precision(preds: list[LabeledBox], gts: list[Box], threshold: float) -> float:
    """All-point interpolated AP of one label's ranked predictions against its references."""
    if not gts:
        return 0.0 if preds else 1.0
    ranked = sorted(preds, key=lambda p: -p.score)  # stable: equal scores keep the answer's order
    used = [False] * len(gts)
    tp = []
    for p in ranked:
        best, best_iou = -1, threshold
        for j, g in enumerate(gts):
            if used[j]:
                continue
            v = iou(p.box, g)
            if v >= best_iou:
                best, best_iou = j, v
        if best >= 0:
            used[best] = True
        tp.append(best >= 0)
    precisions, recalls, hits = [], [], 0
    for k, hit in enumerate(tp, start=1):
        hits += hit
        precisions.append(hits / k)
        recalls.append(hits / len(gts))
    # precision envelope, then the area under the precision-recall step curve
    for i in range(len(precisions) - 2, -1, -1):
        precisions[i] = max(precisions[i], precisions[i + 1])
    ap, prev_recall = 0.0, 0.0
    for p, r in zip(precisions, recalls):
        if r > prev_recall:
            ap += (r - prev_recall) * p
            prev_recall = r
    return ap


def mean_average_precision(preds: Sequence[LabeledBox], gts: Sequence[LabeledBox],
                           thresholds: Sequence[float] = COCO_THRESHOLDS) -> float:
    """mAP over the labels of both sides and the given IoU thresholds; 1.0 when both are empty."""
    labels = sorted({p.label for p in preds} | {g.label for g in gts})
    if not labels:
        return 1.0
    total = 0.0
    for label in labels:
        lp = [p for p in preds if p.label == label]
        lg = [g.box for g in gts if g.label == label]
        total += sum(_average_precision(lp, lg, t) for t in thresholds) / len(thresholds)
    return total / len(labels)


def matched_iou_score(preds: Sequence[LabeledBox], gts: Sequence[LabeledBox], threshold: float) -> float:
    """Mean over references of the IoU of their greedy same-label match, 0 below ``threshold``."""
    if not gts:
        return 0.0 if preds else 1.0
    pairs = sorted(((iou(p.box, g.box), i, j) for i, p in enumerate(preds) for j, g in enumerate(gts)
                    if p.label == g.label), reverse=True)
    used_p, used_g, total = set(), set(), 0.0
    for v, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        total += v if v >= threshold else 0.0
    return total / len(gts)
