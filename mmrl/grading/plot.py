"""A difficulty histogram as a PNG, stacked by source, drawn with Pillow (no plotting library)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from mmrl.plotting.lines import PALETTE, save_png
from mmrl.plotting.text import draw_text, font as chart_font
MAX_SOURCES = len(PALETTE) - 1


def histogram(values: Sequence[float], bins: int) -> list[int]:
    """Counts of values in ``bins`` equal bins over [0, 1] (1.0 falls in the last bin)."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    return counts


def plot_difficulty(records: Sequence[dict[str, Any]], path: str | Path, bins: int = 10,
                    title: str = "difficulty (0 = always solved, 1 = never solved)") -> Path:
    """Write a stacked histogram of ``difficulty`` by ``source``; returns the path."""
    sources = [s for s, _ in Counter(str(r.get("source", "-")) for r in records).most_common()]
    if len(sources) > MAX_SOURCES:
        sources = sources[:MAX_SOURCES] + ["other"]
    def source_of(r):
        s = str(r.get("source", "-"))
        return s if s in sources else "other"
    stacks = {s: histogram([r["difficulty"] for r in records if source_of(r) == s], bins) for s in sources}
    totals = [sum(stacks[s][i] for s in sources) for i in range(bins)]
    top = -(-max(totals + [1]) // 4) * 4  # a multiple of 4: integer ticks

    width, height, left, right, bottom, head = 720, 420, 60, 190, 50, 40
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font = chart_font(12)

    def text(xy, value: str) -> None:  # word spaces stay visible ("always solved", not "alwayssolved")
        draw_text(draw, xy, value, font)

    plot_w, plot_h = width - left - right, height - head - bottom
    text((left, 12), title)
    draw.line([(left, head), (left, head + plot_h), (left + plot_w, head + plot_h)], fill="black")
    for t in range(5):  # y ticks
        value = top * t / 4
        y = head + plot_h - plot_h * t / 4
        draw.line([(left - 4, y), (left, y)], fill="black")
        text((8, y - 6), f"{value:.0f}")
    bar_w = plot_w / bins
    for i in range(bins):
        x0 = left + i * bar_w + 2
        y = head + plot_h
        for s, color in zip(sources, PALETTE):
            h = plot_h * stacks[s][i] / top
            if h > 0:
                draw.rectangle([x0, y - h, x0 + bar_w - 4, y], fill=color)
            y -= h
        if totals[i]:
            text((x0 + bar_w / 2 - 6, y - 16), str(totals[i]))
    for i in range(bins + 1):
        x = left + i * bar_w
        text((x - 8, head + plot_h + 8), f"{i / bins:.1f}")
    text((left + plot_w / 2 - 30, height - 20), "difficulty")
    for j, (s, color) in enumerate(zip(sources, PALETTE)):
        y = head + 10 + j * 18
        draw.rectangle([width - right + 15, y, width - right + 27, y + 12], fill=color)
        text((width - right + 33, y), f"{s} ({sum(stacks[s])})")
    return save_png(img, path)
