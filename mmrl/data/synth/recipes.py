"""Data that fits each paper recipe (``mmrl data synth --recipe NAME``), so that every mechanism of
the recipe fires, on a tiny model on a CPU too.

Each recipe takes some built-in tasks in turn and rewrites their records into the form its paper
trains on; the images are the tasks' own:

- ``glm41v`` (GLM-4.1V-Thinking): the reference answer inside GLM's box,
  ``<think>…</think><answer><|begin_of_box|>…<|end_of_box|></answer>`` (THUDM/GLM-4.1V-Thinking,
  glmv_reward/README.md), on tasks with four or so possible answers (colour, count, multiple
  choice) scored by their domain verifiers, accuracy only (the format is a gate, not a weight).
  The recipe's prompt asks for the box.
- ``r1vl`` (R1-VL): Mulberry's step-by-step chain of thought, ``### Image Description:`` /
  ``### Rationales:`` / ``### Step N:`` / ``### The final answer is:``, for the warm-up SFT (which
  reads it as ``<think>/<answer>``), with the ``key_steps`` StepRAR matches in the steps.
- ``vtriune`` (V-Triune): detection (``map``, V-Triune's matched IoU with the size penalty),
  grounding (``iou``), maths (``math``) and number-pattern puzzles mixed, each sample with its own
  reward spec (accuracy 1.0 and format 0.1, normalised).
- ``mm_eureka`` (MM-Eureka): K12-style fill-in-the-blank maths, reward accuracy + 0.5 x format.
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mmrl.data.synth import puzzles  # noqa: F401 - registers the reasoning tasks
from mmrl.data.synth.tasks import TASKS, reward_spec
from mmrl.errors import ConfigError
from mmrl.response_format import (
    GLM_BOX_CLOSE,
    GLM_BOX_OPEN,
    MULBERRY_DESCRIPTION,
    MULBERRY_FINAL_ANSWER,
    MULBERRY_RATIONALES,
)

Record = dict[str, Any]
_REFERENCE = re.compile(r"^<think>(.*)</think><answer>(.*)</answer>$", re.DOTALL)
_STEP_LINE = re.compile(r"^Step \d+: (.*)$")
# V-Triune's total (a * R_acc + f * R_format) / (a + f) with a = 1.0, f = 0.1 (paper §2).
VTRIUNE_WEIGHTS = {"accuracy": round(1.0 / 1.1, 4), "format": round(0.1 / 1.1, 4)}
# What each task's question calls for, in R1-VL's "### Rationales:" section.
RATIONALES_OF = {
    "arith": "Multiplication is done before addition and subtraction; then work from left to right.",
    "equation": "To solve a linear equation, undo the addition first, then the multiplication.",
    "sequence": "An arithmetic progression adds the same difference to each term to get the next.",
}


@dataclass(frozen=True)
class RecipeData:
    name: str
    summary: str
    tasks: tuple[str, ...]
    adapt: Callable[[Record], Record]


def _parts(record: Record) -> tuple[str, str]:
    """The thinking and the answer of a task's reference response."""
    m = _REFERENCE.match(record["response"])
    if m is None:
        raise ValueError(f"task response is not <think>…</think><answer>…</answer>: {record['response'][:60]!r}")
    return m.group(1), m.group(2)


def glm_record(record: Record) -> Record:
    thinking, answer = _parts(record)
    spec = reward_spec(record["reward"]["verifier"], {"accuracy": 1.0}, **record["reward"].get("params", {}))
    return {**record, "reward": spec,
            "response": f"<think>{thinking}</think><answer>{GLM_BOX_OPEN}{answer}{GLM_BOX_CLOSE}</answer>"}


def mulberry_response(description: str, rationale: str, steps: list[str], answer: str) -> str:
    """A response in Mulberry's sectioned format (the data R1-VL warms up on)."""
    body = "\n".join(f"### Step {i + 1}:\n{s}" for i, s in enumerate(steps))
    return (f"{MULBERRY_DESCRIPTION}\n{description}\n{MULBERRY_RATIONALES}\n{rationale}\n"
            f"### Let's think step by step.\n{body}\n{MULBERRY_FINAL_ANSWER} {answer}")


def r1vl_record(record: Record) -> Record:
    thinking, answer = _parts(record)
    lines = thinking.splitlines()
    steps = [m.group(1) for m in map(_STEP_LINE.match, lines[1:]) if m]
    task = record["source"].split("/")[-1]
    return {**record, "response": mulberry_response(lines[0], RATIONALES_OF[task], steps, answer),
            "reward": reward_spec("steprar", {"step_rar": 1.0, "step_rvr": 1.0}, alpha=0.1)}


def vtriune_record(record: Record) -> Record:
    spec = record["reward"]
    params = dict(spec.get("params", {}))
    if spec["verifier"] == "map":
        params["mode"] = "vtriune"  # reward_server/verify.py: IoU-matched boxes x the size penalty
    return {**record, "reward": reward_spec(spec["verifier"], VTRIUNE_WEIGHTS, **params)}


def eureka_record(record: Record) -> Record:
    return {**record, "reward": reward_spec("math", {"accuracy": 1.0, "format": 0.5})}


RECIPE_DATA: dict[str, RecipeData] = {r.name: r for r in (
    RecipeData("glm41v", "GLM-4.1V: answers in <|begin_of_box|>, colour / count / multiple choice",
               ("colour", "bigcount", "choice"), glm_record),
    RecipeData("r1vl", "R1-VL: Mulberry-style step-by-step CoT with key_steps (algebra, arithmetic)",
               ("equation", "arith"), r1vl_record),
    RecipeData("vtriune", "V-Triune: detection, grounding, maths and puzzles mixed, each with its reward spec",
               ("detect", "locate", "equation", "sequence"), vtriune_record),
    RecipeData("mm_eureka", "MM-Eureka: K12-style fill-in-the-blank maths, accuracy + 0.5 x format",
               ("equation",), eureka_record),
)}


def recipe_data(name: str) -> RecipeData:
    if name not in RECIPE_DATA:
        raise ConfigError(f"unknown recipe {name!r} for data synth; choose one of: {', '.join(RECIPE_DATA)}")
    return RECIPE_DATA[name]


def generate_for(name: str, n: int, seed: int, image_size: int) -> Iterator[tuple[Any, Record]]:
    """Yield (image, record) pairs of recipe ``name``'s data; the tasks are taken in turn, and
    each sample draws from its own generator, so a shorter run is a prefix of a longer one."""
    data = recipe_data(name)
    for i in range(n):
        t = TASKS.get(data.tasks[i % len(data.tasks)])
        image, record = t.render(random.Random(f"{seed}:{name}:{t.name}:{i}"), image_size)
        record = {"id": f"synth-{name}-{t.name}-s{seed}-{i:05d}", **record, "source": f"synth/{t.name}"}
        yield image, data.adapt(record)
