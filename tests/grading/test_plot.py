"""The difficulty histogram."""
from __future__ import annotations

from PIL import Image

from mmrl.grading.plot import histogram, plot_difficulty


def test_histogram_bins_include_one_in_the_last_bin():
    assert histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0], 10) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]


def test_plot_draws_a_bar_per_non_empty_bin(tmp_path):
    records = [{"difficulty": 0.05, "source": "a"}] * 3 + [{"difficulty": 0.95, "source": "b"}]
    path = plot_difficulty(records, tmp_path / "h.png", bins=10)
    img = Image.open(path).convert("RGB")
    # sample the middle of the first and last bars, and an empty bin between them
    left, right, head, bottom, width, height = 60, 190, 40, 50, 720, 420
    bar_w = (width - left - right) / 10
    y = height - bottom - 3
    first = img.getpixel((int(left + bar_w * 0.5), y))
    last = img.getpixel((int(left + bar_w * 9.5), y))
    empty = img.getpixel((int(left + bar_w * 4.5), y))
    assert first != (255, 255, 255) and last != (255, 255, 255) and first != last
    assert empty == (255, 255, 255)
