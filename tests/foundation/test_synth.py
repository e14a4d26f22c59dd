"""`mmrl data synth`: deterministic, SPEC-valid samples for every task."""
from __future__ import annotations

import hashlib

import pytest

from mmrl.data.synth import TASKS, generate, synthesize
from mmrl.io.jsonl import read_jsonl
from mmrl.io.schema import validate_file


def digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("task", TASKS.names())
def test_every_task_writes_spec_valid_samples(task, tmp_path):
    out = tmp_path / "d.jsonl"
    synthesize(out, task=task, n=6, seed=1, image_size=56)
    count, errors = validate_file(out, kind="sample")
    assert count == 6 and errors == []
    for r in read_jsonl(out):
        assert r["source"] == f"synth/{task}"
        assert r["reward"]["verifier"] in ("number", "exact", "math", "choice", "iou", "map")
        assert r["response"].startswith("<think>") and r["response"].endswith("</answer>")


def test_same_seed_gives_identical_files(tmp_path):
    synthesize(tmp_path / "a" / "d.jsonl", n=12, seed=7, image_size=56)
    synthesize(tmp_path / "b" / "d.jsonl", n=12, seed=7, image_size=56)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_other_seed_gives_other_data(tmp_path):
    synthesize(tmp_path / "a" / "d.jsonl", n=12, seed=1, image_size=56)
    synthesize(tmp_path / "b" / "d.jsonl", n=12, seed=2, image_size=56)
    assert read_jsonl(tmp_path / "a" / "d.jsonl") != read_jsonl(tmp_path / "b" / "d.jsonl")


def test_a_shorter_run_is_a_prefix_of_a_longer_one():
    short = [r for _, r in generate("mix", 6, seed=3, image_size=56)]
    long = [r for _, r in generate("mix", 12, seed=3, image_size=56)]
    assert long[:6] == short


def test_mix_covers_every_core_task():
    from mmrl.data.synth import mix_names

    sources = {r["source"] for _, r in generate("mix", len(mix_names()), seed=0, image_size=56)}
    assert sources == {f"synth/{t}" for t in mix_names()}


def test_count_answer_matches_the_drawn_shapes():
    from mmrl.data.synth.shapes import COLORS

    for img, r in generate("count", 5, seed=0, image_size=112):
        color = r["question"].split()[2]
        target = COLORS[color]
        assert isinstance(r["answer"], int) and 0 <= r["answer"] <= 5
        if r["answer"] > 0:
            assert target in {px for _, px in img.getcolors(112 * 112)}


def test_locate_box_encloses_the_coloured_pixels():
    for img, r in generate("locate", 3, seed=0, image_size=112):
        x1, y1, x2, y2 = r["answer"]
        bbox = img.convert("L").point(lambda v: 255 if v < 250 else 0).getbbox()
        assert bbox is not None
        assert x1 <= bbox[0] and y1 <= bbox[1] and bbox[2] <= x2 and bbox[3] <= y2


def test_choice_answer_letter_points_at_the_right_option():
    for _, r in generate("choice", 6, seed=0, image_size=56):
        right = r["choices"]["ABCD".index(r["answer"])]
        assert right in r["response"]


def test_unknown_task_is_a_clear_error(cli, tmp_path):
    result = cli("data", "synth", "-o", str(tmp_path / "d.jsonl"), "--task", "juggling")
    assert result.exit_code == 2 and "unknown task 'juggling'" in result.stderr


def test_help_lists_the_tasks(cli):
    result = cli("data", "synth", "--help")
    for name in TASKS.names():
        assert name in result.output


def test_arith_in_r1vl_form_earns_both_step_rewards():
    from mmrl.data.synth.recipes import generate_for
    from mmrl.rewards import RewardConfig, score_record

    arith = [r for _, r in generate_for("r1vl", 8, seed=0, image_size=56) if r["source"] == "synth/arith"]
    for sample in arith:
        record = {**sample, "sample": 0, "finish_reason": "stop", "num_tokens": 1, "model": "ref"}
        rewards = score_record(record, RewardConfig(workers=0))["rewards"]
        assert rewards["step_rar"] == pytest.approx(1.1) and rewards["step_rvr"] == 1.0, sample["response"]


# --- the pixel tasks (colour, position, bigcount): learnable from pixels, four answers each

PIXEL_TASKS = ("colour", "position", "bigcount")
REASONING_TASKS = ("equation", "sequence")  # few answers, for the paper recipes' data (puzzles.py)


def test_mix_is_the_core_tasks_without_the_pixel_and_reasoning_tasks():
    from mmrl.data.synth import mix_names

    assert set(mix_names()).isdisjoint(PIXEL_TASKS + REASONING_TASKS)
    assert set(mix_names()) | set(PIXEL_TASKS) | set(REASONING_TASKS) == set(TASKS.names())


def test_a_comma_list_takes_its_tasks_in_turn():
    sources = [r["source"] for _, r in generate("colour,position", 4, seed=0, image_size=56)]
    assert sources == ["synth/colour", "synth/position", "synth/colour", "synth/position"]


@pytest.mark.parametrize("task", PIXEL_TASKS)
def test_pixel_task_reference_response_earns_accuracy_and_format(task):
    from mmrl.rewards import RewardConfig, score_record

    for _, sample in generate(task, 8, seed=2, image_size=112):
        record = {**sample, "sample": 0, "finish_reason": "stop", "num_tokens": 1, "model": "ref"}
        rewards = score_record(record, RewardConfig(workers=0))["rewards"]
        assert rewards["accuracy"] == 1.0 and rewards["format"] == 1.0, sample["response"]


@pytest.mark.parametrize("task", PIXEL_TASKS)
def test_pixel_task_chance_is_one_in_four(task):
    assert TASKS.get(task).chance == pytest.approx(0.25)


def test_colour_answer_is_the_colour_drawn():
    from mmrl.data.synth.shapes import COLORS

    for img, r in generate("colour", 8, seed=0, image_size=112):
        drawn = {px for _, px in img.getcolors(112 * 112)} - {(255, 255, 255)}
        assert drawn == {COLORS[r["answer"]]}


def test_position_shape_lies_in_the_quadrant_named():
    for img, r in generate("position", 8, seed=0, image_size=112):
        x1, y1, x2, y2 = img.convert("L").point(lambda v: 255 if v < 250 else 0).getbbox()
        vertical, horizontal = r["answer"].split()
        assert (x2 <= 56) if horizontal == "left" else (x1 >= 56), r["answer"]
        assert (y2 <= 56) if vertical == "top" else (y1 >= 56), r["answer"]


def _blobs(img) -> int:
    """Connected groups of non-white pixels (4-neighbourhood)."""
    w, h = img.size
    px = img.convert("L").load()
    seen = set()
    count = 0
    for y in range(h):
        for x in range(w):
            if px[x, y] >= 250 or (x, y) in seen:
                continue
            count += 1
            stack = [(x, y)]
            seen.add((x, y))
            while stack:
                cx, cy = stack.pop()
                for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                    if 0 <= nx < w and 0 <= ny < h and (nx, ny) not in seen and px[nx, ny] < 250:
                        seen.add((nx, ny))
                        stack.append((nx, ny))
    return count


def test_bigcount_answer_is_the_number_of_shapes_drawn():
    answers = set()
    for img, r in generate("bigcount", 12, seed=0, image_size=112):
        assert 1 <= r["answer"] <= 4 and _blobs(img) == r["answer"]
        answers.add(r["answer"])
    assert len(answers) > 1
