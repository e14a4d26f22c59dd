"""Choosing the option closest to an unmatched answer, by Levenshtein distance.

MathVista maps an unmatched multiple-choice extraction to the option at the smallest edit
distance (``get_most_similar`` in lupantech/MathVista ``evaluation/calculate_score.py``); ties go to
the first option. The distance is the reward library's (unit costs, as ``Levenshtein.distance``
computes it), so OCR rewards and benchmark scoring share one implementation.
"""
from __future__ import annotations

from collections.abc import Sequence

from mmrl.rewards.text import levenshtein as edit_distance

__all__ = ["edit_distance", "most_similar"]


def most_similar(text: str, options: Sequence[str]) -> tuple[int, int]:
    """(index, distance) of the option closest to ``text``; the first one wins a tie."""
    if not options:
        raise ValueError("most_similar needs at least one option")
    distances = [edit_distance(text, o) for o in options]
    best = min(distances)
    return distances.index(best), best
