"""Benchmark scorers as reward verifiers: same verdicts as eval, no torch on import."""
from __future__ import annotations

import subprocess
import sys

from mmrl.eval.verifiers import BENCHMARK_VERIFIERS
from mmrl.rewards.base import VERIFIERS, VerifierResult


def test_every_builtin_benchmark_is_a_registered_verifier():
    assert set(BENCHMARK_VERIFIERS) == {"mathvista", "mathverse", "mathvision", "chartqa", "k12", "geometry3k"}
    assert all(name in VERIFIERS for name in BENCHMARK_VERIFIERS)


def test_mathvista_verifier_reads_choices_and_params_like_the_benchmark():
    verify = VERIFIERS.get("mathvista")
    sample = {"choices": ["3/11", "8/11"], "answer": "8/11"}
    params = {"question_type": "multi_choice", "answer_type": "text"}
    assert verify("<think>..</think><answer>(B)</answer>", sample, params) == VerifierResult(1.0, "(B)")
    assert verify("<answer>A</answer>", sample, params).accuracy == 0.0
    float_params = {"question_type": "free_form", "answer_type": "float", "precision": 1}
    assert verify("<answer>3.46</answer>", {"answer": "3.5"}, float_params).accuracy == 1.0


def test_verifier_and_eval_agree_on_every_fixture_item(samples_of):
    from tests.eval.eval_helpers import score

    for bench in ("mathvista", "mathverse", "mathvision", "chartqa"):
        for sample in samples_of(bench).values():
            response = f"<answer>{sample['answer']}</answer>"
            params = sample["reward"]["params"]
            assert VERIFIERS.get(bench)(response, sample, params).accuracy == score(bench, response, sample).accuracy


def test_chartqa_verifier_is_relaxed_accuracy():
    assert VERIFIERS.get("chartqa")("<answer>102</answer>", {"answer": "100"}, {}).accuracy == 1.0


def test_importing_the_verifiers_loads_neither_torch_nor_transformers():
    code = ("import sys, mmrl.eval.verifiers; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
