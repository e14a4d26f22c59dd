"""Training curves from metrics files (SPEC.md section 5): ``mmrl plot METRICS.jsonl... -o curves.png``.

One panel per metric, several runs overlaid (one colour per run): the mean reward, accuracy per
data source (``accuracy/SOURCE``), held-out accuracy when the run evaluated, response length, KL
to the reference and the clip fraction; a run's noisy per-step values are drawn faint under their
moving average. Panels no run has data for are left out; ``metrics`` picks panels by name instead.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError
from mmrl.plotting.lines import PALETTE, Panel, Series, render

# (metric, panel title) in the order they are drawn; accuracy/SOURCE panels follow reward/mean.
PANELS = (
    ("reward/mean", "mean reward"),
    ("accuracy/mean", "accuracy (training samples)"),
    ("eval/accuracy/mean", "held-out accuracy (greedy)"),
    ("response_len/mean", "response length (tokens)"),
    ("kl", "KL to the reference"),
    ("clip_frac", "clip fraction"),
    ("loss", "loss"),
)
TITLES = dict(PANELS)


def load_run(path: str | Path) -> list[dict[str, Any]]:
    """The step lines of a metrics file, by step; a step that is not a finite number is an error
    ``PATH:LINE: step`` (lines without a step, such as a run's closing summary, are not steps)."""
    from mmrl.io.jsonl import iter_located

    rows = []
    for item in iter_located(path):
        step = item.record.get("step")
        if step is None:
            continue
        if not _numeric(step):
            raise item.error(f"must be a finite number, got {str(step)[:40]}", "step")
        rows.append(item.record)
    if not rows:
        raise ConfigError(f"{path}: no metrics lines with a step (SPEC.md section 5)")
    return sorted(rows, key=lambda r: r["step"])


def run_label(path: str | Path) -> str:
    """A run's name: the folder of ``.../RUN/metrics.jsonl``, else the file's stem."""
    p = Path(path)
    return p.parent.name if p.stem == "metrics" and p.parent.name else p.stem


def unique(labels: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _numeric(value: Any) -> bool:
    """A number a chart can place: not a bool, and finite as a float (an integer of 400 digits,
    which JSON allows, is not)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def source_accuracy_keys(runs: Sequence[list[dict[str, Any]]]) -> list[str]:
    """``accuracy/SOURCE`` keys of the training metrics (not the overall mean, not eval/)."""
    keys = {k for rows in runs for r in rows for k in r if k.startswith("accuracy/") and k != "accuracy/mean"}
    return sorted(keys)


def default_metrics(runs: Sequence[list[dict[str, Any]]]) -> list[str]:
    present = {k for rows in runs for r in rows for k, v in r.items() if _numeric(v)}
    per_source = source_accuracy_keys(runs)
    chosen = []
    for key, _ in PANELS:
        if key == "accuracy/mean" and per_source:
            chosen += per_source  # a panel per source says more than their mean
        elif key in present and not (key == "loss" and "reward/mean" in present):
            chosen.append(key)
    return chosen


def moving_average(values: Sequence[float | None], window: int) -> list[float | None]:
    """Trailing mean of the last ``window`` present values (None where a value is missing)."""
    out: list[float | None] = []
    recent: list[float] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        recent.append(v)
        if len(recent) > window:
            recent.pop(0)
        out.append(sum(recent) / len(recent))
    return out


def auto_window(runs: Sequence[list[dict[str, Any]]]) -> int:
    """About a thirtieth of the longest run, at least 1."""
    return max(1, max(len(rows) for rows in runs) // 30)


def panel_for(key: str, runs: Sequence[list[dict[str, Any]]], labels: Sequence[str], window: int) -> Panel:
    title = TITLES.get(key) or (f"accuracy: {key.split('/', 1)[1]}" if key.startswith("accuracy/") else key)
    panel = Panel(title)
    for i, (rows, label) in enumerate(zip(runs, labels)):
        color = PALETTE[i % len(PALETTE)]
        points = [(r["step"], r[key]) for r in rows if _numeric(r.get(key))]
        if not points:
            continue
        xs, ys = [p[0] for p in points], [float(p[1]) for p in points]
        sparse = key.startswith("eval/")  # evaluated every N steps: already a clean signal
        if window > 1 and not sparse:
            panel.series.append(Series(label, xs, ys, color, faint=True))
            panel.series.append(Series(label, xs, moving_average(ys, window), color))
        else:
            panel.series.append(Series(label, xs, ys, color))
    return panel


def plot_runs(paths: Sequence[str | Path], out: str | Path, labels: Sequence[str] | None = None,
              metrics: Sequence[str] | None = None, smooth: int | None = None, title: str | None = None,
              columns: int = 3) -> Path:
    """Draw the curves of the metrics files ``paths`` (one colour per run) into the PNG ``out``."""
    if not paths:
        raise ConfigError("plot: give at least one metrics file")
    if labels is not None and len(labels) != len(paths):
        raise ConfigError(f"plot: {len(labels)} labels for {len(paths)} metrics files")
    if smooth is not None and smooth < 1:
        raise ConfigError(f"--smooth must be at least 1 (1 = raw values), got {smooth}")
    runs = [load_run(p) for p in paths]
    names = unique(list(labels) if labels is not None else [run_label(p) for p in paths])
    keys = list(metrics) if metrics else default_metrics(runs)
    if not keys:
        raise ConfigError("plot: none of the metrics files has reward, accuracy, length, KL, clip or loss values; "
                          "name the metrics to draw with --metric")
    window = smooth or auto_window(runs)
    panels = [panel_for(k, runs, names, window) for k in keys]
    legend = [(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)]
    if window > 1:
        legend.append((f"(faint: per step; solid: mean of the last {window} steps)", "#ffffff"))
    return render(panels, out, legend, title=title, columns=columns)
