"""Untrusted responses: nothing is executed, and pathological answers are bounded, for every verifier.

Every verifier mmrl registers is covered, the benchmark scorers of ``mmrl eval`` included (they are
reward verifiers too). Nothing here measures wall-clock time: a slow verifier is bounded by the
scorer's own per-call deadline (``RewardConfig.timeout``), which turns it into an ``error`` record;
how fast each verifier is on these inputs is measured by ``benchmarks/reward_bench.py
--pathological``, not asserted on a shared machine.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import mmrl.eval
import mmrl.eval.verifiers  # noqa: F401 - registers the benchmark scorers as verifiers
import mmrl.rewards
from mmrl.rewards import VERIFIERS, RewardConfig, score_record


def _own_verifiers() -> list[str]:
    """Every verifier mmrl itself registers (test plugins registered elsewhere are not ours)."""
    return sorted(n for n in VERIFIERS.names() if VERIFIERS.get(n).__module__.startswith("mmrl."))


ALL = _own_verifiers()


def test_the_benchmark_scorers_are_among_the_verifiers_checked():
    assert {"math", "number", "choice", "exact", "ocr", "iou", "map", "steprar", "steprvr"} <= set(ALL)
    assert {"mathvista", "mathverse", "mathvision", "chartqa", "k12", "geometry3k"} <= set(ALL)


def record_for(verifier: str, response: str, answer="1") -> dict:
    record = {"id": "x", "sample": 0, "question": "q", "answer": answer, "choices": ["a", "b"],
              "key_steps": ["1+1=2"], "response": response, "reward": {"verifier": verifier}}
    if verifier == "iou":
        record["answer"] = [0, 0, 1, 1]
    if verifier == "map":
        record["answer"] = [{"label": "a", "box": [0, 0, 1, 1]}]
    return record


def score(response: str, verifier: str, answer="1") -> dict:
    return score_record(record_for(verifier, response, answer), RewardConfig(workers=0, timeout=5))


# No digit in any payload, and the marker is a relative name inside the test's own folder: the
# number-reading verifiers must not find a "1" in a temporary path and call the injection right.
PAYLOADS = [
    "__import__('os').system('touch pwned')",
    "eval(\"__import__('os').system('touch pwned')\")",
    "\\boxed{__import__('os').system('touch pwned')}",
    "exec(open('pwned', 'w').write('x'))",
    "Symbol('x').__class__.__init__.__globals__['os'].system('touch pwned')",
    "__import__('sympy').sympify(\"__import__('os').system('touch pwned')\")",
]


def test_payloads_hold_no_digits():
    assert not any(re.search(r"\d", p) for p in PAYLOADS)


@pytest.mark.parametrize("verifier", ALL)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_response_text_is_never_executed(tmp_path, monkeypatch, verifier, payload):
    monkeypatch.chdir(tmp_path)
    out = score("<think>t</think><answer>" + payload + "</answer>", verifier)
    assert not (tmp_path / "pwned").exists()
    assert out["rewards"]["accuracy"] < 1.0


@pytest.mark.parametrize("verifier", ALL)
def test_a_payload_as_the_reference_is_not_executed_either(tmp_path, monkeypatch, verifier):
    monkeypatch.chdir(tmp_path)
    score("<answer>a</answer>", verifier, answer=PAYLOADS[0])
    assert not (tmp_path / "pwned").exists()


def test_sources_never_evaluate_text():
    """No ``eval``/``exec`` and no SymPy parsing of text anywhere in rewards or eval (the scorers)."""
    banned = re.compile(r"(?<![.\w])(?:eval|exec|compile|__import__)\s*\(|(?:sympify|parse_expr|lambdify|parse_latex)\s*\(")
    roots = [Path(mmrl.rewards.__file__).parent, Path(mmrl.eval.__file__).parent]
    offenders = [str(p) for root in roots for p in root.rglob("*.py") if banned.search(p.read_text(encoding="utf-8"))]
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
    "many_boxes": "\\boxed{" * 10_000,
    "many_answer_phrases": "the answer is " * 5_000,
}


@pytest.mark.parametrize("verifier", ALL)
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_answers_give_a_well_formed_record(verifier, name):
    out = score(f"<think>t</think><answer>\\boxed{{{PATHOLOGICAL[name]}}}</answer>", verifier)
    rewards = out["rewards"]
    assert all(isinstance(v, float) and math.isfinite(v) for v in rewards.values())
    assert "error" not in out or out["error"]


@pytest.mark.parametrize("name", ["tower", "factorial", "huge_literal", "power_chain", "huge_exponent_literal"])
@pytest.mark.parametrize("verifier", ["math", "number"])
def test_pathological_numbers_are_not_the_reference(verifier, name):
    out = score(f"<answer>{PATHOLOGICAL[name]}</answer>", verifier, answer="7")
    assert out["rewards"]["accuracy"] == 0.0


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_reference_against_itself(name):
    text = PATHOLOGICAL[name]
    result = VERIFIERS.get("math")(f"<answer>{text}</answer>", {"answer": text}, {})
    assert result.accuracy == 1.0  # identical answers are equal without any arithmetic


def test_tower_against_a_different_tower_is_not_equal():
    result = VERIFIERS.get("math")("<answer>10^{10^{10^{10}}}</answer>", {"answer": "10^{10^{10^{11}}}"}, {})
    assert result.accuracy == 0.0


def test_fifty_kilobyte_response():
    response = "<think>" + "reasoning " * 5000 + "</think><answer>2</answer>"
    assert score(response, "math", answer="2")["rewards"]["accuracy"] == 1.0
