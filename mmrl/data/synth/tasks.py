"""The built-in synthetic tasks: each renders one image and a SPEC.md sample with a verifiable answer.

Every task is small enough for a tiny model to learn and covers one verifier: counting
(``number``), reading text (``exact``), arithmetic with key steps (``math``), multiple choice
(``choice``), locating one shape (``iou``) and detecting several (``map``). A task is a
function ``(rng, image_size) -> (image, record)``, registered under its name in ``TASKS``.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from mmrl.data.synth.shapes import (
    COLORS,
    SHAPES,
    Shape,
    canvas,
    draw_shape,
    draw_text_centered,
    place_shapes,
)
from mmrl.registry import Registry

Rendered = tuple[Image.Image, dict[str, Any]]

# V-Triune's per-sample weights (accuracy 1.0, format 0.1), normalised so the total stays in [0, 1].
DEFAULT_WEIGHTS = {"accuracy": 0.9, "format": 0.1}


@dataclass(frozen=True)
class Task:
    name: str
    summary: str
    render: Callable[[random.Random, int], Rendered]
    # Accuracy of a uniform guess among the task's possible answers (0: open answers).
    chance: float = 0.0
    # Part of ``--task mix`` (the tour of the verifiers); the pixel tasks are taken by name.
    in_mix: bool = True


TASKS: Registry[Task] = Registry("synthetic task")


def task(name: str, summary: str, chance: float = 0.0, in_mix: bool = True):
    def deco(fn: Callable[[random.Random, int], Rendered]):
        TASKS.add(name, Task(name, summary, fn, chance, in_mix))
        return fn

    return deco


def reward_spec(verifier: str, weights: dict[str, float] | None = None, **params: Any) -> dict[str, Any]:
    """A sample's own reward spec: the verifier, its weights (default accuracy 0.9 / format 0.1), params."""
    return {"verifier": verifier, "weights": dict(weights or DEFAULT_WEIGHTS), "params": params}


def reference_response(thinking: str, answer: str) -> str:
    """The target response of a task: ``<think>thinking</think><answer>answer</answer>``."""
    return f"<think>{thinking}</think><answer>{answer}</answer>"


def _plural(kind: str, n: int) -> str:
    return kind if n == 1 else kind + "s"


@task("count", "count the shapes of one colour (number, integer)", chance=1 / 6)
def count_task(rng: random.Random, size: int) -> Rendered:
    color, kind = rng.choice(list(COLORS)), rng.choice(SHAPES)
    target = rng.randint(0, 5)
    others = [(c, k) for c in COLORS for k in SHAPES if (c, k) != (color, kind)]
    specs = [(color, kind)] * target + [rng.choice(others) for _ in range(rng.randint(1, 3))]
    rng.shuffle(specs)
    img = canvas(size)
    shapes = place_shapes(rng, size, specs)
    for s in shapes:
        draw_shape(img, s)
    n = sum(1 for s in shapes if (s.color, s.kind) == (color, kind))
    record = {
        "question": f"How many {color} {kind}s are in the image?",
        "answer": n,
        "reward": reward_spec("number", integer=True),
        "response": reference_response(
            f"I look for {color} {kind}s among the {len(shapes)} shapes and find {n} {_plural(kind, n)}.", str(n)
        ),
    }
    return img, record


WORDS = ("cat", "tree", "blue", "moon", "river", "stone", "lamp", "bird", "seven", "cloud", "apple", "road")


@task("read", "read the word or number rendered in the image (exact, OCR-style)")
def read_task(rng: random.Random, size: int) -> Rendered:
    text = rng.choice(WORDS) if rng.random() < 0.5 else str(rng.randint(10, 9999))
    img = canvas(size)
    draw_text_centered(img, text, max(10, size // 6))
    record = {
        "question": "What text is written in the image?",
        "answer": text,
        "reward": reward_spec("exact"),
        "response": reference_response(f"The image shows the text \"{text}\" in black letters.", text),
    }
    return img, record


@task("arith", "evaluate the arithmetic expression shown in the image (math, with key_steps)")
def arith_task(rng: random.Random, size: int) -> Rendered:
    a, b, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)
    op1, op2 = rng.choice("+-"), rng.choice("+*")
    expr = f"{a} {op1} {b} {'×' if op2 == '*' else '+'} {c}"
    if op2 == "*":
        inner = b * c
        steps = [f"{b} × {c} = {inner}", f"{a} {op1} {inner} = {a + inner if op1 == '+' else a - inner}"]
        value = a + inner if op1 == "+" else a - inner
    else:
        left = a + b if op1 == "+" else a - b
        value = left + c
        steps = [f"{a} {op1} {b} = {left}", f"{left} + {c} = {value}"]
    img = canvas(size)
    draw_text_centered(img, expr, max(10, size // 8))
    record = {
        "question": "What is the value of the expression in the image?",
        "answer": str(value),
        "key_steps": steps,
        "reward": reward_spec("math"),
        # a description, then steps numbered 1..n on their own lines, then the answer; the r1vl recipe
        # data (recipes.py) writes these parts as Mulberry's sections, which R1-VL's rewards read
        "response": reference_response(f"The expression is {expr}.\n" + "\n".join(f"Step {i + 1}: {s}." for i, s in
                                                                           enumerate(steps)), str(value)),
    }
    return img, record


def _one_shape(rng: random.Random, size: int, min_side: int, max_side: int) -> tuple[Image.Image, Shape]:
    """A canvas with a single shape of random colour and kind."""
    color, kind = rng.choice(list(COLORS)), rng.choice(SHAPES)
    img = canvas(size)
    shape = place_shapes(rng, size, [(color, kind)], min_side=min_side, max_side=max_side)[0]
    draw_shape(img, shape)
    return img, shape


# Colour questions have 4 options, kind questions 3 (there are three kinds), half each.
@task("choice", "multiple choice about the colour or the kind of a single shape (choice)", chance=(1 / 4 + 1 / 3) / 2)
def choice_task(rng: random.Random, size: int) -> Rendered:
    img, shape = _one_shape(rng, size, min_side=size // 4, max_side=size // 2)
    color, kind = shape.color, shape.kind
    if rng.random() < 0.5:
        question, right, pool = "What colour is the shape?", color, list(COLORS)
    else:
        question, right, pool = "What kind of shape is shown?", kind, list(SHAPES)
    options = [right] + rng.sample([p for p in pool if p != right], k=min(3, len(pool) - 1))
    rng.shuffle(options)
    letter = "ABCD"[options.index(right)]
    record = {
        "question": question,
        "choices": options,
        "answer": letter,
        "reward": reward_spec("choice"),
        "response": reference_response(f"The shape in the image is a {color} {kind}, so the answer is {right}.", letter),
    }
    return img, record


def _box_text(box: tuple[int, int, int, int]) -> str:
    return "[" + ", ".join(str(v) for v in box) + "]"


@task("locate", "give the bounding box of the one shape (iou)")
def locate_task(rng: random.Random, size: int) -> Rendered:
    img, shape = _one_shape(rng, size, min_side=size // 6, max_side=size // 3)
    color, kind = shape.color, shape.kind
    record = {
        "question": f"Locate the {color} {kind}. Answer with its bounding box [x1, y1, x2, y2] in pixels.",
        "answer": list(shape.box),
        "reward": reward_spec("iou", iou_threshold=0.5),
        "response": reference_response(f"The {color} {kind} spans from ({shape.box[0]}, {shape.box[1]}) to "
                              f"({shape.box[2]}, {shape.box[3]}).", _box_text(shape.box)),
    }
    return img, record


@task("detect", "list every shape with its label and bounding box (map)")
def detect_task(rng: random.Random, size: int) -> Rendered:
    specs = [(rng.choice(list(COLORS)), rng.choice(SHAPES)) for _ in range(rng.randint(2, 4))]
    img = canvas(size)
    shapes = place_shapes(rng, size, specs)
    for s in shapes:
        draw_shape(img, s)
    objects = [{"label": s.label, "box": list(s.box)} for s in shapes]
    answer_text = "[" + ", ".join(f'{{"label": "{o["label"]}", "box": {_box_text(tuple(o["box"]))}}}'
                                  for o in objects) + "]"
    record = {
        "question": "Detect every shape. Answer with a JSON list of {\"label\": \"<colour> <shape>\", "
                    "\"box\": [x1, y1, x2, y2]} in pixels.",
        "answer": objects,
        "reward": reward_spec("map"),
        "response": reference_response(f"I see {len(shapes)} shapes: " + ", ".join(s.label for s in shapes) + ".",
                              answer_text),
    }
    return img, record
