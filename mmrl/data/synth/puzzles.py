"""Reasoning tasks with few possible answers, for the paper recipes' data on a tiny model.

``equation`` is K12-style fill-in-the-blank algebra (MM-Eureka trains on K12 maths): solve
``a*x + b = c`` for x in 1..4, so a model that has learned the answer format is right a quarter of
the time by chance and its groups' rewards differ. ``sequence`` is a number-pattern puzzle
(V-Triune mixes puzzles such as PuzzleVQA with maths and perception): the next term of an
arithmetic progression whose step is 1..4. Both carry ``key_steps`` for R1-VL's StepRAR.
They are taken by name or by ``--recipe``, not by ``--task mix``.
"""
from __future__ import annotations

import random

from mmrl.data.synth.shapes import canvas, draw_text_centered
from mmrl.data.synth.tasks import Rendered, reference_response, reward_spec, task

X_VALUES = (1, 2, 3, 4)


@task("equation", "K12-style algebra: solve a*x + b = c for x in 1..4 (math, with key_steps)",
      chance=1 / len(X_VALUES), in_mix=False)
def equation_task(rng: random.Random, size: int) -> Rendered:
    x, a, b = rng.choice(X_VALUES), rng.randint(2, 5), rng.randint(1, 9)
    c = a * x + b
    img = canvas(size)
    draw_text_centered(img, f"{a}x + {b} = {c}", max(10, size // 7))
    steps = [f"{a}x = {c} - {b} = {a * x}", f"x = {a * x} / {a} = {x}"]
    record = {
        "question": "Solve the equation in the image for x. x = ____",
        "answer": str(x),
        "key_steps": steps,
        "reward": reward_spec("math", {"accuracy": 1.0, "format": 0.5}),
        "response": reference_response(f"The equation is {a}x + {b} = {c}.\n"
                                       + "\n".join(f"Step {i + 1}: {s}." for i, s in enumerate(steps)), str(x)),
    }
    return img, record


@task("sequence", "number-pattern puzzle: the next term of an arithmetic progression (math, with key_steps)",
      chance=1 / 4, in_mix=False)
def sequence_task(rng: random.Random, size: int) -> Rendered:
    start, step = rng.randint(1, 9), rng.randint(1, 4)
    terms = [start + k * step for k in range(4)]
    value = terms[-1] + step
    img = canvas(size)
    draw_text_centered(img, ", ".join(str(t) for t in terms) + ", ?", max(10, size // 9))
    steps = [f"{terms[1]} - {terms[0]} = {step}", f"{terms[-1]} + {step} = {value}"]
    record = {
        "question": "The image shows a number pattern. What number replaces the question mark?",
        "answer": str(value),
        "key_steps": steps,
        "reward": reward_spec("math"),
        "response": reference_response(f"The pattern is {', '.join(str(t) for t in terms)}, ?.\n"
                                       + "\n".join(f"Step {i + 1}: {s}." for i, s in enumerate(steps)), str(value)),
    }
    return img, record
