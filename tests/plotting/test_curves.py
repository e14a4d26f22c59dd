"""`mmrl plot`: training curves of several runs in one PNG, and the chart text helper."""
from __future__ import annotations

import json

import pytest
from PIL import Image, ImageColor

from mmrl.errors import ConfigError
from mmrl.plotting.curves import default_metrics, moving_average, plot_runs
from mmrl.plotting.lines import PALETTE, nice_ticks
from mmrl.plotting.text import font, text_width


def write_run(path, steps: int, slope: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for s in range(1, steps + 1):
            f.write(json.dumps({"step": s, "time": s * 0.5, "reward/mean": slope * s, "accuracy/mean": slope * s,
                                "accuracy/synth/colour": slope * s, "accuracy/synth/position": 0.25,
                                "response_len/mean": 12.0, "kl": 0.0, "clip_frac": 0.01 * (s % 3)}) + "\n")
    return path


def colours_in(path) -> set[tuple[int, int, int]]:
    return {px for _, px in Image.open(path).convert("RGB").getcolors(10_000_000)}


def test_nice_ticks_are_round_and_cover_the_range():
    ticks = nice_ticks(0.03, 0.97)
    assert ticks[0] <= 0.03 and ticks[-1] >= 0.97
    assert ticks == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_nice_ticks_of_a_constant_still_span_something():
    ticks = nice_ticks(3.0, 3.0)
    assert ticks[0] < 3.0 < ticks[-1]


def test_nice_ticks_of_a_constant_zero_span_zero_to_one():
    ticks = nice_ticks(0.0, 0.0)
    assert ticks[0] == 0.0 and ticks[-1] == 1.0


def test_moving_average_is_trailing_and_skips_missing_values():
    assert moving_average([1.0, 3.0, None, 5.0], 2) == [1.0, 2.0, None, 4.0]


def test_default_panels_are_reward_accuracy_per_source_length_kl_and_clip(tmp_path):
    from mmrl.plotting.curves import load_run

    run = load_run(write_run(tmp_path / "a" / "metrics.jsonl", 5, 0.1))
    assert default_metrics([run]) == ["reward/mean", "accuracy/synth/colour", "accuracy/synth/position",
                                      "response_len/mean", "kl", "clip_frac"]


def test_two_runs_are_drawn_in_two_colours(tmp_path):
    a = write_run(tmp_path / "seed0" / "metrics.jsonl", 40, 0.02)
    b = write_run(tmp_path / "seed1" / "metrics.jsonl", 30, 0.01)
    out = plot_runs([a, b], tmp_path / "curves.png", smooth=1)
    colours = colours_in(out)
    assert ImageColor.getrgb(PALETTE[0]) in colours and ImageColor.getrgb(PALETTE[1]) in colours


def test_one_run_draws_no_second_colour(tmp_path):
    a = write_run(tmp_path / "seed0" / "metrics.jsonl", 40, 0.02)
    out = plot_runs([a], tmp_path / "curves.png", smooth=1)
    assert ImageColor.getrgb(PALETTE[1]) not in colours_in(out)


def test_a_file_without_steps_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"loss": 1.0}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="no metrics lines with a step"):
        plot_runs([bad], tmp_path / "x.png")


def test_word_spaces_are_a_third_of_the_font_size_at_least():
    f = font(12)
    assert text_width("always solved", f) - text_width("alwayssolved", f) >= 0.33 * 12 - 1e-9


def test_cli_writes_the_png(cli, tmp_path):
    a = write_run(tmp_path / "seed0" / "metrics.jsonl", 10, 0.05)
    b = write_run(tmp_path / "seed1" / "metrics.jsonl", 10, 0.04)
    result = cli("plot", str(a), str(b), "-o", str(tmp_path / "c.png"), "--label", "grpo", "--label", "rloo")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_labels_must_match_the_runs(cli, tmp_path):
    a = write_run(tmp_path / "seed0" / "metrics.jsonl", 10, 0.05)
    result = cli("plot", str(a), "-o", str(tmp_path / "c.png"), "--label", "x", "--label", "y")
    assert result.exit_code == 2 and "2 labels for 1 metrics files" in result.output
