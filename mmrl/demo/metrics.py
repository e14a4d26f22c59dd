"""What tells a demo that learns from one that does not: the spread of the answers and the accuracy
per reference answer (per colour), on GRPO's sampled groups each step and on the held-out answers.

A policy that collapses onto one answer shows it here first: the answer entropy falls towards 0
bits (log2 4 = 2 bits when the four colours are equally likely), the accuracy of one colour goes
to 1 and the others' to 0, and the valid-group fraction (groups with unequal rewards, the only
ones that carry a learning signal) falls with them. Pure functions over scored records.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

NO_ANSWER = "(none)"
ENTROPY_KEY = "answer_entropy"
ANSWER_ACCURACY = "answer_accuracy/"  # + the reference answer: accuracy on the samples whose answer it is


def answer_of(record: Mapping[str, Any]) -> str:
    """The answer a scored record gave (the verifier's extraction), normalised; ``(none)`` if none."""
    extracted = record.get("extracted")
    if extracted is None or not str(extracted).strip():
        return NO_ANSWER
    return " ".join(str(extracted).split()).lower()


def entropy_bits(counts: Iterable[int]) -> float:
    """Shannon entropy (bits) of a distribution given by counts; 0 for one outcome or none."""
    counts = [c for c in counts if c > 0]
    total = sum(counts)
    return 0.0 if total == 0 else max(0.0, -sum(c / total * math.log2(c / total) for c in counts))


def accuracy_by_answer(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Mean accuracy per reference answer, from (reference answer, accuracy) pairs."""
    sums: dict[str, list[float]] = defaultdict(list)
    for answer, acc in pairs:
        sums[answer].append(acc)
    return {answer: sum(v) / len(v) for answer, v in sorted(sums.items())}


def answer_stats(records: Iterable[Mapping[str, Any]], accuracy) -> dict[str, Any]:
    """Answer entropy, the answers given (counts) and accuracy per reference answer of ``records``;
    ``accuracy(record)`` says how right each one was (0..1)."""
    given: Counter[str] = Counter()
    pairs = []
    for r in records:
        given[answer_of(r)] += 1
        pairs.append((str(r.get("answer")).strip().lower(), float(accuracy(r))))
    return {"entropy_bits": entropy_bits(given.values()), "answers": dict(given.most_common()),
            "accuracy_by_answer": accuracy_by_answer(pairs)}


def reward_accuracy(record: Mapping[str, Any]) -> float:
    return float(record.get("rewards", {}).get("accuracy", 0.0))


def step_metrics(groups: Iterable[Any]) -> dict[str, float]:
    """GRPO per-step metrics over every drawn group (valid or not): ``answer_entropy`` (bits) and
    ``answer_accuracy/ANSWER`` for each reference answer drawn this step."""
    stats = answer_stats((r for g in groups for r in g.records), reward_accuracy)
    out = {ENTROPY_KEY: stats["entropy_bits"]}
    out.update({ANSWER_ACCURACY + a: acc for a, acc in stats["accuracy_by_answer"].items()})
    return out
