"""The ``iou`` (one box) and ``map`` (several labelled boxes) verifiers, and reading boxes from text.

Boxes are read as data, never as code: JSON (``[x1, y1, x2, y2]``, ``{"bbox_2d": [...],
"label": ...}`` lists as Qwen2.5-VL writes them, fenced in ```json or not), else numbers in
brackets found by a regular expression.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mmrl.rewards.base import VerifierResult, param, register_verifier
from mmrl.rewards.boxes import (
    COCO_THRESHOLDS,
    LabeledBox,
    iou,
    matched_iou_score,
    mean_average_precision,
    normalize_box,
    size_penalty,
    threshold_at,
)
from mmrl.rewards.extract import extract_from_params

MAP_MODES = ("map", "vtriune")   # map: AP over the thresholds; vtriune: matched IoU x size penalty

MAX_BOXES = 200  # predictions beyond this are not matched (the size penalty still counts them)
MAX_JSON_CHARS = 200_000
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BRACKET_BOX = re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*[\])]")
_LABELLED = re.compile(
    rf"[\"']?(?:label|name|category)[\"']?\s*:\s*[\"']([^\"'\n]{{0,100}})[\"'][^\[\]{{}}]{{0,200}}?"
    rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*[\])]"
)
_FENCE = re.compile(r"^```[A-Za-z]*\s*|\s*```$")
_BOX_KEYS = ("bbox_2d", "bbox", "box", "box_2d")
_LABEL_KEYS = ("label", "name", "category", "class")
_NUMBERS = re.compile(_NUM)


def _label(text: Any) -> str:
    return " ".join(str(text).lower().split())


def _from_json(value: Any) -> list[LabeledBox] | None:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    if len(value) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return [LabeledBox("", normalize_box(value))]
    out = []
    for item in value:
        if isinstance(item, dict):
            raw = next((item[k] for k in _BOX_KEYS if k in item), None)
            if not isinstance(raw, list):
                continue
            label = next((item[k] for k in _LABEL_KEYS if k in item), "")
            score = item.get("score", item.get("confidence", 1.0))
            score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else 1.0
            try:
                out.append(LabeledBox(_label(label), normalize_box(raw), score))
            except ValueError:
                continue
        elif isinstance(item, list) and len(item) == 4:
            try:
                out.append(LabeledBox("", normalize_box(item)))
            except ValueError:
                continue
    return out


def parse_boxes(text: str) -> list[LabeledBox]:
    """Every box an answer states, with its label ('' when unlabelled) and score (1 when absent)."""
    text = _FENCE.sub("", text.strip())
    if len(text) <= MAX_JSON_CHARS and text[:1] in "[{":
        try:
            found = _from_json(json.loads(text))
        except (ValueError, RecursionError):
            found = None
        if found:
            return found
    labelled = [LabeledBox(_label(m.group(1)), normalize_box(m.groups()[1:])) for m in _LABELLED.finditer(text)]
    if labelled:
        return labelled
    return [LabeledBox("", normalize_box(m.groups())) for m in _BRACKET_BOX.finditer(text)]


def reference_boxes(sample: Mapping[str, Any]) -> list[LabeledBox]:
    """The sample's ``answer`` as boxes: ``[x1,y1,x2,y2]``, a list of ``{label, box}``, or text."""
    answer = sample.get("answer")
    if answer is None:
        raise ValueError("the sample has no answer")
    if isinstance(answer, str):
        boxes = parse_boxes(answer)
    else:
        boxes = _from_json(answer)
    if boxes is None or (not boxes and answer not in ([], "[]")):
        raise ValueError(f"answer is not a box or a list of labelled boxes: {answer!r}")
    return boxes


def _one_box(text: str) -> LabeledBox | None:
    boxes = parse_boxes(text)
    if boxes:
        return boxes[0]
    numbers = _NUMBERS.findall(text)
    if len(numbers) == 4:  # "(10, 20), (30, 40)" or "x1=10 y1=20 x2=30 y2=40"
        return LabeledBox("", normalize_box(numbers))
    return None


@register_verifier("iou")
def verify_iou(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """One box: reward = IoU, 0 below iou_threshold (a number, 'dynamic', or (upto, threshold) pairs).

    ``binary=true`` gives 1 instead of the IoU above the threshold. The threshold schedule
    reads the run's training ``progress``; the raw IoU is reported as the ``iou`` component.
    """
    found = extract_from_params(response, params)
    if found.text is None:
        return VerifierResult(0.0, None, {"iou": 0.0})
    gold = reference_boxes(sample)
    if len(gold) != 1:
        raise ValueError(f"the iou verifier needs exactly one reference box, got {len(gold)}")
    pred = _one_box(found.text)
    if pred is None:
        return VerifierResult(0.0, found.text, {"iou": 0.0})
    value = iou(pred.box, gold[0].box)
    thr = threshold_at(param(params, "iou_threshold", 0.5), float(param(params, "progress", 0.0, float)))
    if value < thr:
        return VerifierResult(0.0, found.text, {"iou": value})
    return VerifierResult(1.0 if param(params, "binary", False, bool) else value, found.text, {"iou": value})


@register_verifier("map")
def verify_map(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """Several labelled boxes: mAP@[.5:.95] x 0.6^|n_pred - n_gt| (mode=vtriune: matched IoU instead).

    Params: ``iou_thresholds`` (COCO's ten), ``size_penalty`` base (0.6; 1 turns it off),
    ``mode`` map|vtriune, ``iou_threshold`` (a number or a schedule, as for iou), ``ignore_labels``
    (false). ``iou_threshold`` is the least IoU a match counts at, in both modes: vtriune scores the
    matched IoU, 0 below it; map averages AP over the ``iou_thresholds`` at or above it (AP at the
    threshold itself when none is), so a dynamic threshold raises the bar of mAP too. Components:
    ``map``, ``map50``, ``matched_iou``, ``size_penalty``.
    """
    found = extract_from_params(response, params)
    zero = {"map": 0.0, "map50": 0.0, "matched_iou": 0.0, "size_penalty": 0.0}
    if found.text is None:
        return VerifierResult(0.0, None, zero)
    gold = reference_boxes(sample)
    preds = parse_boxes(found.text)
    if param(params, "ignore_labels", False, bool):
        gold = [LabeledBox("", g.box) for g in gold]
        preds = [LabeledBox("", p.box, p.score) for p in preds]
    else:
        gold = [LabeledBox(_label(g.label), g.box) for g in gold]
    penalty = size_penalty(len(preds), len(gold), param(params, "size_penalty", 0.6, float))
    preds = preds[:MAX_BOXES]
    thr = threshold_at(param(params, "iou_threshold", 0.5), float(param(params, "progress", 0.0, float)))
    thresholds = [float(t) for t in param(params, "iou_thresholds", list(COCO_THRESHOLDS), list)]
    if "iou_threshold" in params:
        thresholds = [t for t in thresholds if t >= thr - 1e-9] or [thr]
    m = mean_average_precision(preds, gold, thresholds)
    m50 = mean_average_precision(preds, gold, [0.5])
    matched = matched_iou_score(preds, gold, thr)
    mode = param(params, "mode", "map", str)
    if mode not in MAP_MODES:
        raise ValueError(f"mode must be {' or '.join(MAP_MODES)}, got {mode!r}")
    score = (m if mode == "map" else matched) * penalty
    return VerifierResult(score, found.text, {"map": m, "map50": m50, "matched_iou": matched,
                                              "size_penalty": penalty})
