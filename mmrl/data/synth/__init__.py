"""The built-in synthetic data set: rendered images with verifiable answers (``mmrl data synth``)."""
from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmrl.data.synth import pixels, puzzles  # noqa: F401 - register the pixel and reasoning tasks
from mmrl.data.synth.tasks import TASKS, Task
from mmrl.errors import ConfigError
from mmrl.io.jsonl import JsonlWriter

MIX = "mix"

__all__ = ["MIX", "TASKS", "Task", "generate", "images_dir", "mix_names", "synthesize", "task_names"]


def mix_names() -> list[str]:
    """The tasks of ``--task mix``: the core tasks, one per verifier."""
    return [name for name in TASKS.names() if TASKS.get(name).in_mix]


def task_names(task: str) -> list[str]:
    """The tasks a ``--task`` value stands for: ``mix``, one name, or names separated by commas."""
    if task == MIX:
        return mix_names()
    names = [t.strip() for t in task.split(",") if t.strip()]
    unknown = [t for t in names if t not in TASKS]
    if unknown or not names:
        raise ConfigError(f"unknown task {(unknown or [task])[0]!r}; choose one of: {', '.join(TASKS.names())}, "
                          f"{MIX}, or several names separated by commas")
    return names


def generate(task: str = MIX, n: int = 64, seed: int = 0, image_size: int = 112) -> Iterator[tuple[Any, dict]]:
    """Yield (PIL image, record without images) pairs; several tasks are taken in turn.

    Each sample draws from its own generator seeded by (seed, index), so the first k samples of
    a run of n are the same as a run of k, and a seed always gives the same data.
    """
    names = task_names(task)
    for i in range(n):
        t = TASKS.get(names[i % len(names)])
        rng = random.Random(f"{seed}:{t.name}:{i}")
        image, record = t.render(rng, image_size)
        sample_id = f"synth-{t.name}-s{seed}-{i:05d}"
        yield image, {"id": sample_id, **record, "source": f"synth/{t.name}"}


def images_dir(out: str | Path) -> Path:
    """Where ``synthesize`` writes the images of the samples it writes to ``out``."""
    return Path(out).parent / "images"


def synthesize(out: str | Path, task: str = MIX, n: int = 64, seed: int = 0, image_size: int = 112,
               progress: bool = False, recipe: str | None = None) -> int:
    """Write n samples to ``out`` (JSONL) and their PNGs to ``images/`` beside it; returns n.

    ``recipe`` (glm41v, r1vl, vtriune, mm_eureka) writes the data that paper recipe trains on
    instead of ``task`` (``mmrl.data.synth.recipes``)."""
    out = Path(out)
    if str(out) == "-":
        raise ConfigError("data synth writes images beside its output: give a file path with -o")
    if recipe is not None:
        from mmrl.data.synth.recipes import generate_for, recipe_data

        recipe_data(recipe)  # an unknown name fails before anything is written
        samples = generate_for(recipe, n, seed, image_size)
    else:
        samples = generate(task, n, seed, image_size)
    image_dir = images_dir(out)
    image_dir.mkdir(parents=True, exist_ok=True)
    if progress:
        from mmrl.console import track

        samples = track(samples, "rendering samples", total=n)
    with JsonlWriter(out) as w:
        for image, record in samples:
            rel = f"images/{record['id']}.png"
            image.save(out.parent / rel, format="PNG", optimize=False)
            ordered = {"id": record["id"], "question": record["question"], "images": [rel]}
            ordered.update({k: v for k, v in record.items() if k not in ordered})
            w.write(ordered)
    return n
