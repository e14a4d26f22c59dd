"""Text on charts: Pillow's bundled font at a readable size, with word spaces that stay visible.

The bundled scalable font draws a space only 2-3 pixels wide at chart sizes, so "always solved"
reads as "alwayssolved"; ``draw_text`` sets words with a space of at least a third of the size.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import ImageDraw, ImageFont

MIN_SPACE_EM = 0.33


@lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def space_width(f: ImageFont.ImageFont) -> float:
    size = getattr(f, "size", 10)
    return max(f.getlength(" "), MIN_SPACE_EM * size)


def text_width(text: str, f: ImageFont.ImageFont) -> float:
    words = text.split(" ")
    return sum(f.getlength(w) for w in words) + space_width(f) * (len(words) - 1)


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, f: ImageFont.ImageFont,
              fill: str | tuple[int, int, int] = "black", align: str = "left") -> None:
    """Draw ``text`` with its top at ``y``, starting (left), centred (center) or ending (right) at ``x``."""
    x, y = xy
    width = text_width(text, f)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    gap = space_width(f)
    for word in text.split(" "):
        if word:
            draw.text((x, y), word, fill=fill, font=f)
        x += f.getlength(word) + gap
