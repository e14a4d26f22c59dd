"""The warm-up SFT set of the demo: the training samples with their answers shuffled among them.

Warm-up SFT is there to teach the answer *form* (``<think>…</think><answer>…</answer>``, one of
the task's answers), not the task. Trained on the true answers it learns the task itself within
tens of steps once the image makes the answer easy to see, and leaves RL nothing to show. Trained
on answers permuted among the samples of the same task, the target no longer depends on the image:
SFT can learn the form and how often each answer occurs (the permutation keeps those counts), but
by construction nothing that tells the answers apart, so the SFT model is at chance and any gain
above it is RL's, rewarded by the verifier against the true answers.
"""
from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

# What moves with a shuffled answer: the answer and the reference response that states it.
ANSWER_FIELDS = ("answer", "response")


def shuffle_answers(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Copies of ``records`` whose answer fields are a seeded permutation of those of the records
    with the same ``source``; everything else (id, images, question, reward spec) stays."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_source[str(r.get("source"))].append(i)
    rng = random.Random(seed)
    out = [dict(r) for r in records]
    for source in sorted(by_source):
        rows = by_source[source]
        donors = rows[:]
        rng.shuffle(donors)
        for row, donor in zip(rows, donors):
            for key in ANSWER_FIELDS:
                out[row][key] = records[donor][key]
    return out


def write_shuffled(train: Path, out: Path, seed: int) -> int:
    """``out``: the samples of ``train`` (a SPEC file next to its images) with shuffled answers;
    the images are referred to where they are. Returns how many answers changed."""
    from mmrl.io.jsonl import JsonlWriter, read_jsonl

    records = read_jsonl(train)
    shuffled = shuffle_answers(records, seed)
    if out.parent.resolve() != train.parent.resolve():
        raise ValueError(f"{out} must sit beside {train}: the samples' image paths are relative to it")
    with JsonlWriter(out) as w:
        for r in shuffled:
            w.write(r)
    return sum(a["answer"] != b["answer"] for a, b in zip(records, shuffled))
