"""Levenshtein edit distance (unit costs), as ``Levenshtein.distance`` computes it.

MathVista maps an unmatched multiple-choice extraction to the option at the smallest edit
distance (``get_most_similar`` in lupantech/MathVista ``evaluation/calculate_score.py``); ties go to
the first option. Pure Python, two rows of the DP table: answers and options are short.
"""
from __future__ import annotations

from collections.abc import Sequence


def edit_distance(a: str, b: str) -> int:
    """Fewest single-character insertions, deletions and substitutions turning ``a`` into ``b``."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def most_similar(text: str, options: Sequence[str]) -> tuple[int, int]:
    """(index, distance) of the option closest to ``text``; the first one wins a tie."""
    if not options:
        raise ValueError("most_similar needs at least one option")
    distances = [edit_distance(text, o) for o in options]
    best = min(distances)
    return distances.index(best), best
