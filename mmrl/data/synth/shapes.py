"""Drawing primitives for the synthetic tasks: coloured shapes and text on a plain canvas."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
    "purple": (140, 60, 180),
    "orange": (240, 130, 20),
}
SHAPES = ("circle", "square", "triangle")
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class Shape:
    color: str
    kind: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, x2/y2 exclusive

    @property
    def label(self) -> str:
        return f"{self.color} {self.kind}"


def canvas(size: int) -> Image.Image:
    return Image.new("RGB", (size, size), BACKGROUND)


def draw_shape(img: Image.Image, shape: Shape) -> None:
    d = ImageDraw.Draw(img)
    x1, y1, x2, y2 = shape.box
    fill = COLORS[shape.color]
    if shape.kind == "circle":
        d.ellipse((x1, y1, x2 - 1, y2 - 1), fill=fill)
    elif shape.kind == "square":
        d.rectangle((x1, y1, x2 - 1, y2 - 1), fill=fill)
    elif shape.kind == "triangle":
        d.polygon([((x1 + x2 - 1) / 2, y1), (x1, y2 - 1), (x2 - 1, y2 - 1)], fill=fill)
    else:
        raise ValueError(f"unknown shape {shape.kind!r}")


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int], gap: int = 2) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def place_shapes(rng: random.Random, size: int, specs: list[tuple[str, str]], min_side: int | None = None,
                 max_side: int | None = None) -> list[Shape]:
    """Place non-overlapping shapes of the given (color, kind) at random; fewer if space runs out."""
    min_side = min_side or max(8, size // 10)
    max_side = max_side or max(min_side + 1, size // 4)
    placed: list[Shape] = []
    for color, kind in specs:
        for _ in range(200):
            side = rng.randint(min_side, max_side)
            x1, y1 = rng.randint(0, size - side), rng.randint(0, size - side)
            box = (x1, y1, x1 + side, y1 + side)
            if not any(_overlaps(box, s.box) for s in placed):
                placed.append(Shape(color, kind, box))
                break
        else:
            raise RuntimeError(f"could not place {len(specs)} shapes on a {size}px canvas")
    return placed


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font: no system fonts needed, the same glyphs everywhere."""
    return ImageFont.load_default(size=size)


def draw_text_centered(img: Image.Image, text: str, size: int, color: tuple[int, int, int] = (0, 0, 0)) -> None:
    d = ImageDraw.Draw(img)
    f = font(size)
    left, top, right, bottom = d.textbbox((0, 0), text, font=f)
    w, h = right - left, bottom - top
    d.text(((img.width - w) / 2 - left, (img.height - h) / 2 - top), text, fill=color, font=f)
