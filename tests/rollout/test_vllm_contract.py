"""The vLLM contract check (benchmarks/vllm_contract.py): run against real vLLM where vLLM and a
GPU are present; here its checks are themselves checked with the hf backend as the engine."""
from __future__ import annotations

import importlib.util

import pytest

from tests.scripts import benchmark_script


def vllm_on_a_gpu() -> bool:
    import torch

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


@pytest.fixture(scope="module")
def contract():
    with benchmark_script("vllm_contract") as module:
        yield module


def outcomes(report):
    return {c["name"]: c["passed"] for c in report["checks"]}


@pytest.mark.skipif(not vllm_on_a_gpu(), reason="needs vLLM and a CUDA GPU")
@pytest.mark.parametrize("colocate", [False, True], ids=["default-engine", "colocated"])
def test_real_vllm_keeps_the_contract(contract, colocate):
    report = contract.run_contract(engine="vllm", colocate=colocate)
    assert report["passed"], outcomes(report)


@pytest.mark.slow
def test_every_check_passes_for_the_reference_itself(contract):
    report = contract.run_contract(engine="hf", size="xs", device="cpu", prompts=3)
    assert report["passed"], outcomes(report)


@pytest.mark.slow
def test_an_engine_that_ignores_pushed_weights_fails_the_weights_checks(contract, monkeypatch):
    from mmrl.rollout.backends.hf import HFBackend

    class IgnoresWeights(HFBackend):
        def update_weights(self, weights) -> None:
            pass

    monkeypatch.setattr(contract, "make_engine", lambda kind, spec, colocate: IgnoresWeights(spec))
    checks = outcomes(contract.run_contract(engine="hf", size="xs", device="cpu", prompts=3))
    assert (checks["vision"], checks["weights"]) == (False, False)
