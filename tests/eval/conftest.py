"""Fixtures of the eval tests: the shipped benchmark records (each in its benchmark's own schema)
turned into SPEC samples once per session."""
from __future__ import annotations

import pytest
from tests.eval.eval_helpers import fixture_path


@pytest.fixture(scope="session")
def samples_of(tmp_path_factory):
    """``samples_of(bench)`` -> {id: SPEC sample} from the shipped records (cached per bench)."""
    from mmrl.eval.benchmark import get_benchmark
    from mmrl.eval.data import iter_samples

    cache: dict[str, dict[str, dict]] = {}

    def load(bench: str) -> dict[str, dict]:
        if bench not in cache:
            b = get_benchmark(bench)
            out = tmp_path_factory.mktemp(f"samples-{bench}")
            cache[bench] = {s["id"]: s for s in iter_samples(b, fixture_path(bench), b.default_split, out)}
        return cache[bench]

    return load
