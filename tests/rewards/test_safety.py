"""Untrusted responses: nothing is executed, and pathological answers stay cheap."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import mmrl.rewards
from mmrl.rewards import VERIFIERS, RewardConfig, score_record

BUILTIN = ["math", "number", "choice", "exact", "ocr", "iou", "map", "steprar", "steprvr"]


def score(response, verifier, answer="1"):
    record = {"id": "x", "sample": 0, "answer": answer, "choices": ["a", "b"], "key_steps": ["1+1=2"],
              "response": response, "reward": {"verifier": verifier}}
    if verifier in ("iou",):
        record["answer"] = [0, 0, 1, 1]
    if verifier == "map":
        record["answer"] = [{"label": "a", "box": [0, 0, 1, 1]}]
    start = time.perf_counter()
    out = score_record(record, RewardConfig(workers=0, timeout=5))
    return out, time.perf_counter() - start


@pytest.mark.parametrize("verifier", BUILTIN)
@pytest.mark.parametrize("payload", [
    "__import__('os').system('touch {marker}')",
    "eval(\"__import__('os').system('touch {marker}')\")",
    "\\boxed{{__import__('os').system('touch {marker}')}}",
    "exec(open('{marker}', 'w').write('x'))",
    "Symbol('x').__class__.__init__.__globals__['os'].system('touch {marker}')",
])
def test_response_text_is_never_executed(tmp_path, verifier, payload):
    marker = tmp_path / "pwned"
    response = "<think>t</think><answer>" + payload.format(marker=marker) + "</answer>"
    out, _ = score(response, verifier)
    assert not marker.exists()
    assert out["rewards"]["accuracy"] < 1.0


def test_reward_sources_never_evaluate_text():
    root = Path(mmrl.rewards.__file__).parent
    banned = re.compile(r"(?<![.\w])(?:eval|exec|compile|__import__)\s*\(|(?:sympify|parse_expr|lambdify|parse_latex)\s*\(")
    offenders = [str(p) for p in root.rglob("*.py") if banned.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


PATHOLOGICAL = {
    "tower": "10^{10^{10^{10}}}",
    "factorial": "1000000!",
    "huge_literal": "9" * 5000,
    "long_string": "x+" * 25_000 + "1",
    "nested_braces": "{" * 10_000 + "1" + "}" * 10_000,
    "nested_parens": "(" * 10_000 + "1" + ")" * 10_000,
    "deep_sqrt": "\\sqrt{" * 2000 + "2" + "}" * 2000,
    "power_chain": "^".join(["9"] * 300),
    "huge_exponent_literal": "1e999999999",
}


@pytest.mark.parametrize("verifier", ["math", "number", "exact", "ocr", "choice", "iou", "map", "steprar"])
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_answers_are_cheap(verifier, name):
    out, seconds = score(f"<think>t</think><answer>\\boxed{{{PATHOLOGICAL[name]}}}</answer>", verifier)
    assert seconds < 1.0, f"{name} took {seconds:.2f}s"
    assert "error" not in out or not out["error"].startswith("timeout")


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_reference_against_itself(name):
    text = PATHOLOGICAL[name]
    start = time.perf_counter()
    result = VERIFIERS.get("math")(f"<answer>{text}</answer>", {"answer": text}, {})
    assert time.perf_counter() - start < 1.0
    assert result.accuracy == 1.0  # identical answers are equal without any arithmetic


def test_tower_against_a_different_tower_is_not_equal_and_fast():
    start = time.perf_counter()
    result = VERIFIERS.get("math")("<answer>10^{10^{10^{10}}}</answer>", {"answer": "10^{10^{10^{11}}}"}, {})
    assert result.accuracy == 0.0 and time.perf_counter() - start < 1.0


def test_fifty_kilobyte_response():
    response = "<think>" + "reasoning " * 5000 + "</think><answer>2</answer>"
    out, seconds = score(response, "math", answer="2")
    assert out["rewards"]["accuracy"] == 1.0 and seconds < 1.0
