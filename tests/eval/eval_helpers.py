"""Helpers of the eval tests (a module of its own: conftest files are not for importing)."""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = {
    "mathvista": "mathvista/testmini.json",
    "mathverse": "mathverse/testmini.jsonl",
    "mathvision": "mathvision/testmini.jsonl",
    "chartqa": "chartqa/test.jsonl",
    "k12": "k12/test.jsonl",
    "geometry3k": "geometry3k/test.jsonl",
}


def fixture_path(bench: str) -> str:
    return str(FIXTURES / FIXTURE_FILES[bench])


def score(bench: str, response: str, sample: dict, judge=None):
    """Score one response the way ``mmrl eval`` does (the sample's own reward params)."""
    from mmrl.eval.benchmark import get_benchmark
    from mmrl.eval.scoring import reward_params

    return get_benchmark(bench).score(response, sample, reward_params(sample), judge)
