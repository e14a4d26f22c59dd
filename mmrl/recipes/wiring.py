"""How stages pass files to each other: each stage's command lines and what it leaves behind.

The run's state holds the current ``model`` (the one given, then each trained one), the ``train``
samples (``--data``, the synthesized set, then grade's kept samples), the ``test`` samples and
the ``rollouts``/``scored`` files. ``invocations`` gives a stage's command lines (inputs and
outputs only: every other setting comes from the stage's settings file) and the state after it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError

TRAINING = ("warmup_sft", "grpo")   # write resumable checkpoints under OUT/checkpoints
RESUMABLE = ("rollout", "reward", "eval", *TRAINING)   # their commands take --resume
TEST_SEED_OFFSET = 1_000            # the held-out set is drawn with another seed than the training set

# `mmrl data synth --recipe NAME` (the data made for each paper) by recipe file name
SYNTH_RECIPES = {"glm41v_rlcs": "glm41v", "r1vl_stepgrpo": "r1vl", "r1vl_warmup": "r1vl",
                 "vtriune": "vtriune", "mm_eureka": "mm_eureka"}


def synth_args(recipe_name: str, settings: Mapping[str, Any]) -> list[str]:
    """``--recipe NAME``, the data made for ``recipe_name``; nothing when the recipe's
    ``data.synth`` section picks the data itself (``recipe`` or ``task``) or names no paper."""
    if "recipe" in settings or "task" in settings or recipe_name not in SYNTH_RECIPES:
        return []
    return ["--recipe", SYNTH_RECIPES[recipe_name]]


@dataclass
class State:
    model: str
    first_model: str
    train: str | None = None
    test: str | None = None
    rollouts: str | None = None
    scored: str | None = None


@dataclass
class Invocations:
    lines: list[list[str]]            # one command line (after the command) per call
    inputs: list[str]                 # the paths they read
    after: dict[str, str]             # state fields after the stage
    metrics: list[str] = field(default_factory=list)   # metrics.jsonl files for the curves
    skipped: str | None = None        # why the stage has nothing to do


def invocations(kind: str, folder: Path, state: State, settings: Mapping[str, Any], recipe_name: str) -> Invocations:
    f = str(folder)
    if kind == "data":
        if state.train is not None and state.test is not None:
            return Invocations([], [], {}, skipped="--data and --eval-data given")
        seed = int(settings.get("seed", 0) or 0)
        extra = synth_args(recipe_name, settings)
        lines, after = [], {}
        if state.train is None:
            after["train"] = f"{f}/train/train.jsonl"
            lines.append(["-o", after["train"], "--seed", str(seed), *extra])
        if state.test is None:
            after["test"] = f"{f}/test/test.jsonl"
            lines.append(["-o", after["test"], "--seed", str(seed + TEST_SEED_OFFSET), *extra])
        return Invocations(lines, [], after)
    train = _need(state.train, kind, "training samples (--data or a data stage)")
    if kind == "warmup_sft":
        return Invocations([["--model", state.model, "--data", train, "--out", f]], [state.model, train],
                           {"model": f}, metrics=[f"{f}/metrics.jsonl"])
    if kind == "rollout":
        out = f"{f}/rollouts.jsonl"
        return Invocations([["--model", state.model, "--data", train, "-o", out]], [state.model, train],
                           {"rollouts": out})
    if kind == "reward":
        rollouts = _need(state.rollouts, kind, "a rollout stage before it")
        out = f"{f}/scored.jsonl"
        return Invocations([[rollouts, "-o", out]], [rollouts], {"scored": out})
    if kind == "grade":
        scored = _need(state.scored, kind, "a reward stage before it")
        out = f"{f}/graded.jsonl"
        return Invocations([[scored, "-o", out]], [scored], {"train": out})
    if kind == "grpo":
        return Invocations([["--model", state.model, "--data", train, "--out", f]], [state.model, train],
                           {"model": f}, metrics=[f"{f}/metrics.jsonl"])
    if kind == "eval":
        test = _need(state.test, kind, "held-out samples (--eval-data or a data stage)")
        lines = [["--model", state.first_model, "--data", test, "-o", f"{f}/before"],
                 ["--model", state.model, "--data", test, "-o", f"{f}/after"]]
        return Invocations(lines, [state.first_model, state.model, test], {})
    raise ConfigError(f"unknown stage {kind!r}")


def _need(value: str | None, kind: str, what: str) -> str:
    if value is None:
        raise ConfigError(f"chain: stage {kind!r} needs {what}")
    return value
