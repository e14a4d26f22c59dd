"""Line charts as one PNG: a grid of panels, each with its title, axes, ticks and lines, and one
legend for the whole figure (the same colour is the same run in every panel)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

from mmrl.plotting.text import draw_text, font, text_width

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
PANEL_W, PANEL_H = 420, 270
LEFT, RIGHT, TOP, BOTTOM = 62, 18, 34, 44
LEGEND_ROW = 24


@dataclass
class Series:
    """One line: points (x, y); a y of None breaks the line. ``faint`` draws it thin and light."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    color: str
    faint: bool = False


@dataclass
class Panel:
    title: str
    series: list[Series] = field(default_factory=list)
    xlabel: str = "step"


MAX_TICKS = 12


def _half_span(lo: float, hi: float) -> float:
    """Half of ``hi - lo``, finite for any two finite floats (``1e308 - -1e308`` is not)."""
    return hi / 2 - lo / 2


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].

    Any finite range works, the extremes too: a span past the largest float (-1e308..1e308) is
    measured by halves, and a step below the spacing of floats at the values (2**53..2**53+2,
    where adding 0.5 changes nothing) falls back to the two ends, so the loop always ends."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if _half_span(lo, hi) < 5e-13 * max(1.0, abs(lo), abs(hi)):  # a constant: 0 is drawn on [0, 1]
        pad = abs(lo) * 0.1
        lo, hi = (lo - pad, hi + pad) if pad else (0.0, 1.0)
    raw = _half_span(lo, hi) / max(1, count - 1) * 2
    if not math.isfinite(raw) or raw <= 0:
        return _ends(lo, hi)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 5, 10) if math.isfinite(m * power)]
    step = min(steps, key=lambda st: abs(_half_span(lo, hi) * 2 / st - (count - 1)))
    first, last = math.floor(lo / step), math.ceil(hi / step - 1e-9)
    ticks = [round(i * step, 12) for i in range(int(first), int(last) + 1)] if last - first <= MAX_TICKS else []
    if len(ticks) < 2 or any(not math.isfinite(t) for t in ticks) or len(set(ticks)) != len(ticks):
        return _ends(lo, hi)
    return ticks


def _ends(lo: float, hi: float) -> list[float]:
    return [lo, hi] if hi > lo else [lo - 1.0, lo + 1.0]


def tick_label(value: float, step: float) -> str:
    if not math.isfinite(step) or abs(value) >= 1e15 or 0 < step < 1e-6:
        return f"{value:.6g}"
    if step >= 1 and float(value).is_integer():
        return f"{int(value):,}" if abs(value) >= 10_000 else f"{int(value)}"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    return f"{value:.{decimals}f}"


def scale(value: float, lo: float, hi: float) -> float:
    """Where ``value`` lies between ``lo`` and ``hi``, as a fraction (0.5 when they are equal)."""
    span = _half_span(lo, hi)
    return (value / 2 - lo / 2) / span if span else 0.5


def lighter(color: str, amount: float = 0.65) -> tuple[int, int, int]:
    r, g, b = ImageColor.getrgb(color)[:3]
    return tuple(int(c + (255 - c) * amount) for c in (r, g, b))  # type: ignore[return-value]


def _runs(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split a line at missing values into runs of consecutive points."""
    out, cur = [], []
    for x, y in points:
        if y is None or not math.isfinite(y):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append((x, y))
    if cur:
        out.append(cur)
    return out


def draw_panel(img: Image.Image, origin: tuple[int, int], panel: Panel) -> None:
    draw = ImageDraw.Draw(img)
    ox, oy = origin
    x0, y0 = ox + LEFT, oy + TOP
    w, h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    draw_text(draw, (ox + LEFT, oy + 8), panel.title, font(14))
    xs = [x for s in panel.series for x, y in zip(s.xs, s.ys) if y is not None and math.isfinite(y)]
    ys = [y for s in panel.series for y in s.ys if y is not None and math.isfinite(y)]
    draw.rectangle([x0, y0, x0 + w, y0 + h], outline="#888888")
    if not ys:
        draw_text(draw, (x0 + w / 2, y0 + h / 2 - 7), "no data", font(12), "#888888", align="center")
        return
    xt, yt = nice_ticks(min(xs), max(xs)), nice_ticks(min(ys), max(ys))
    xlo, xhi, ylo, yhi = xt[0], xt[-1], yt[0], yt[-1]

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + scale(x, xlo, xhi) * w, y0 + h - scale(y, ylo, yhi) * h

    small = font(11)
    ystep = _half_span(yt[0], yt[1]) * 2 if len(yt) > 1 else 1.0
    for t in yt:
        _, y = px(xlo, t)
        draw.line([(x0, y), (x0 + w, y)], fill="#eeeeee")
        draw.line([(x0 - 4, y), (x0, y)], fill="black")
        draw_text(draw, (x0 - 7, y - 7), tick_label(t, ystep), small, align="right")
    xstep = _half_span(xt[0], xt[1]) * 2 if len(xt) > 1 else 1.0
    for t in xt:
        x, _ = px(t, ylo)
        draw.line([(x, y0 + h), (x, y0 + h + 4)], fill="black")
        draw_text(draw, (x, y0 + h + 7), tick_label(t, xstep), small, align="center")
    draw_text(draw, (x0 + w / 2, y0 + h + 24), panel.xlabel, font(12), "#444444", align="center")
    for s in sorted(panel.series, key=lambda s: not s.faint):  # faint lines underneath
        color = lighter(s.color) if s.faint else s.color
        for run in _runs(list(zip(s.xs, s.ys))):
            pts = [px(x, y) for x, y in run]
            if len(pts) == 1:
                (cx, cy), r = pts[0], 2.5
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)
            else:
                draw.line(pts, fill=color, width=1 if s.faint else 2, joint="curve")


def render(panels: Sequence[Panel], path: str | Path, legend: Sequence[tuple[str, str]], title: str | None = None,
           columns: int = 3) -> Path:
    """Draw ``panels`` in a grid under a title and a legend of (label, colour); write a PNG."""
    columns = max(1, min(columns, len(panels)))
    rows = math.ceil(len(panels) / columns)
    head = (30 if title else 8) + LEGEND_ROW
    img = Image.new("RGB", (columns * PANEL_W, head + rows * PANEL_H), "white")
    draw = ImageDraw.Draw(img)
    if title:
        draw_text(draw, (LEFT, 8), title, font(16))
    x, y = LEFT, head - LEGEND_ROW + 4
    f = font(13)
    for label, color in legend:
        draw.line([(x, y + 8), (x + 22, y + 8)], fill=color, width=3)
        draw_text(draw, (x + 28, y), label, f)
        x += 28 + text_width(label, f) + 30
    for i, panel in enumerate(panels):
        draw_panel(img, ((i % columns) * PANEL_W, head + (i // columns) * PANEL_H), panel)
    return save_png(img, path, optimize=True)


def save_png(img: Image.Image, path: str | Path, **options) -> Path:
    """Write ``img`` as a PNG at ``path`` (``-``: stdout) through a temporary file renamed over it,
    so a failed write (disk full) leaves no half image and never a damaged file where one was;
    a DataError naming the path instead of an OSError."""
    from mmrl.io.atomic import write_atomic

    if str(path) == "-":
        import sys

        img.save(sys.stdout.buffer, format="PNG", **options)
        sys.stdout.buffer.flush()
        return Path("-")
    return write_atomic(path, lambda f: img.save(f, format="PNG", **options))
