"""The demo's training curves: only panels that can move.

With one on-policy update per step the importance ratio is exactly 1, so the clip fraction of
``mmrl plot`` would be flat zero by construction: it is left out (and the KL panel with it when
beta is 0). The demo draws what says whether GRPO is learning: reward, training accuracy, the
valid-group fraction (groups with unequal rewards, the only ones with a gradient), the answer
entropy, the accuracy per reference answer (one line per answer, in its own colour for colours),
the KL to the SFT model and the response length.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmrl.demo.metrics import ANSWER_ACCURACY, ENTROPY_KEY
from mmrl.plotting.curves import auto_window, load_run, moving_average, panel_for
from mmrl.plotting.lines import PALETTE, Panel, Series, render

# Metrics drawn one panel each, in order (those a run lacks are left out).
SINGLE = ("reward/mean", "accuracy/mean", "valid_group_frac", ENTROPY_KEY, "kl", "response_len/mean")
TITLES = {"valid_group_frac": "valid-group fraction (unequal rewards)",
          ENTROPY_KEY: "answer entropy (bits; 2 = four answers alike)"}
# Lines of the per-answer panel: a colour answer is drawn in its colour.
ANSWER_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4", "yellow": "#e0b000"}


def answer_panel(rows: list[dict[str, Any]], window: int) -> Panel | None:
    """One panel, one smoothed line per reference answer: the training accuracy on its samples."""
    answers = sorted({k[len(ANSWER_ACCURACY):] for r in rows for k in r if k.startswith(ANSWER_ACCURACY)})
    if not answers:
        return None
    panel = Panel("training accuracy per answer (line = the answer)")
    for i, answer in enumerate(answers):
        key = ANSWER_ACCURACY + answer
        xs = [r["step"] for r in rows]
        ys = moving_average([r.get(key) for r in rows], window)
        panel.series.append(Series(answer, xs, ys, ANSWER_COLOURS.get(answer, PALETTE[i % len(PALETTE)])))
    return panel


def plot_demo(metrics: str | Path, out: str | Path, label: str = "grpo") -> Path:
    """Draw the demo's GRPO ``metrics.jsonl`` into the PNG ``out``."""
    rows = load_run(metrics)
    window = auto_window([rows])
    present = {k for r in rows for k in r}
    panels = []
    for key in SINGLE:
        if key == "accuracy/mean":
            per_source = sorted(k for k in present if k.startswith("accuracy/") and k != "accuracy/mean")
            panels += [panel_for(k, [rows], [label], window) for k in (per_source or [key])]
        elif key in present and not (key == "kl" and not any(r.get("kl") for r in rows)):
            panel = panel_for(key, [rows], [label], window)
            panel.title = TITLES.get(key, panel.title)
            panels.append(panel)
    extra = answer_panel(rows, window)
    if extra is not None:
        panels.insert(3, extra)
    legend = [(label, PALETTE[0])]
    if window > 1:
        legend.append((f"(faint: per step; solid: mean of the last {window} steps)", "#ffffff"))
    return render(panels, out, legend, columns=4,
                  title="mmrl demo: GRPO (one on-policy update per step: nothing is clipped, no clip-fraction panel)")
