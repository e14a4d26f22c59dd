"""The `spec` benchmark: a user's own SPEC samples, each scored by its own reward verifier."""
from __future__ import annotations

import pytest

from mmrl.data.synth import TASKS, generate
from mmrl.errors import ConfigError
from mmrl.eval.benchmark import RowError, get_benchmark
from mmrl.eval.data import iter_samples


@pytest.mark.parametrize("task", TASKS.names())
def test_the_synthetic_reference_response_is_scored_correct(task):
    bench = get_benchmark("spec")
    for _, sample in generate(task, 4, seed=5, image_size=56):
        judgement = bench.score(sample["response"], sample, sample["reward"]["params"])
        assert judgement.correct, (sample["id"], judgement)
        assert judgement.rule == sample["reward"]["verifier"]


def test_a_wrong_answer_is_scored_wrong():
    bench = get_benchmark("spec")
    _, sample = next(generate("count", 1, seed=0, image_size=56))
    wrong = f"<think>guess</think><answer>{sample['answer'] + 1}</answer>"
    assert bench.score(wrong, sample, sample["reward"]["params"]).correct is False


def test_breakdowns_come_from_source_and_verifier(synth_file, tmp_path):
    samples = list(iter_samples(get_benchmark("spec"), synth_file, "all", tmp_path))
    assert len(samples) == 12
    assert {s["meta"]["verifier"] for s in samples} == {"number", "exact", "math", "choice", "iou", "map"}
    assert all(s["meta"]["source"] == s["source"] for s in samples)


def test_it_needs_local_data(tmp_path):
    with pytest.raises(ConfigError, match="no Hub copy: give the data with --data"):
        list(iter_samples(get_benchmark("spec"), None, "all", tmp_path))


def test_a_sample_may_not_name_spec_as_its_verifier():
    with pytest.raises(RowError, match="must name the verifier"):
        get_benchmark("spec").to_sample({"id": "a", "question": "q", "reward": {"verifier": "spec"}}, [], 0, "all")
