"""Synthetic tasks a tiny model learns from pixels in minutes: few large shapes, four answers each.

Where the core tasks (``tasks.py``) tour the verifiers, these exist so that a demo on a CPU can
show RL making a model better: each question has four possible answers (chance 1/4), the cue is
large (a shape filling most of the image, a quadrant, up to four big shapes), and the answer is a
word or a number that the real ``exact`` or ``number`` verifier scores. The thinking of the
reference response is one short sentence, so that samples stay short and cheap to draw.

They are taken by name (``--task colour,position``), not by ``--task mix``.
"""
from __future__ import annotations

import random

from mmrl.data.synth.shapes import SHAPES, Shape, canvas, draw_shape, place_shapes
from mmrl.data.synth.tasks import Rendered, reference_response, reward_spec, task

# Four well separated colours (a subset of shapes.COLORS): chance is 1/4 on every task here.
PIXEL_COLORS = ("red", "green", "blue", "yellow")
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
MAX_COUNT = 4
# Accuracy counts, format keeps the <think>/<answer> form once RL starts (MM-Eureka's 1 + 0.5).
PIXEL_WEIGHTS = {"accuracy": 1.0, "format": 0.5}


@task("colour", "the colour of one shape filling most of the image: red, green, blue or yellow (exact)",
      chance=1 / 4, in_mix=False)
def colour_task(rng: random.Random, size: int) -> Rendered:
    # 0.6 to 0.9 of the side: most image tokens carry the colour. With a third to a half of the
    # side, GRPO on the demo's random tiny model found the colour on some seeds and drifted
    # between answers on others (BENCHMARKS.md, the demo section).
    color, kind = rng.choice(PIXEL_COLORS), rng.choice(SHAPES)
    img = canvas(size)
    shape = place_shapes(rng, size, [(color, kind)], min_side=size * 3 // 5, max_side=size * 9 // 10)[0]
    draw_shape(img, shape)
    record = {
        "question": "What colour is the shape?",
        "answer": color,
        "reward": reward_spec("exact", PIXEL_WEIGHTS),
        "response": reference_response(f"The shape is {color}.", color),
    }
    return img, record


def quadrant_box(rng: random.Random, size: int, quadrant: str) -> tuple[int, int, int, int]:
    """A square box of side size/5..size/3 lying wholly inside ``quadrant`` of the image."""
    half = size // 2
    side = rng.randint(max(4, size // 5), max(5, size // 3))
    x0 = 0 if quadrant.endswith("left") else size - half
    y0 = 0 if quadrant.startswith("top") else size - half
    x1, y1 = x0 + rng.randint(0, half - side), y0 + rng.randint(0, half - side)
    return x1, y1, x1 + side, y1 + side


@task("position", "the quadrant of one shape: top left, top right, bottom left or bottom right (exact)",
      chance=1 / 4, in_mix=False)
def position_task(rng: random.Random, size: int) -> Rendered:
    quadrant, color, kind = rng.choice(QUADRANTS), rng.choice(PIXEL_COLORS), rng.choice(SHAPES)
    img = canvas(size)
    draw_shape(img, Shape(color, kind, quadrant_box(rng, size, quadrant)))
    record = {
        "question": "Where is the shape? Answer top left, top right, bottom left or bottom right.",
        "answer": quadrant,
        "reward": reward_spec("exact", PIXEL_WEIGHTS),
        "response": reference_response(f"The shape is in the {quadrant}.", quadrant),
    }
    return img, record


@task("bigcount", "count 1 to 4 large shapes (number, integer)", chance=1 / MAX_COUNT, in_mix=False)
def bigcount_task(rng: random.Random, size: int) -> Rendered:
    n = rng.randint(1, MAX_COUNT)
    specs = [(rng.choice(PIXEL_COLORS), rng.choice(SHAPES)) for _ in range(n)]
    img = canvas(size)
    for s in place_shapes(rng, size, specs, min_side=size // 6, max_side=size // 4):
        draw_shape(img, s)
    record = {
        "question": "How many shapes are in the image?",
        "answer": n,
        "reward": reward_spec("number", PIXEL_WEIGHTS, integer=True),
        "response": reference_response(f"I count {n} {'shape' if n == 1 else 'shapes'}.", str(n)),
    }
    return img, record
