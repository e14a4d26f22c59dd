"""Scoring one record: dispatch, weights, shared components, gate, errors."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.rewards import VERIFIERS, RewardConfig, register_verifier, score_record, validate_record
from mmrl.rewards.base import VerifierResult
from mmrl.rewards.scoring import parse_params, parse_weights

PLUGINS = Path(__file__).parent / "plugins.py"


@pytest.fixture(autouse=True, scope="module")
def plugins_allowed():
    """The test plugins that records name, allowed as a user allows them (a flag, a recipe, a
    library call): data alone never loads code."""
    from mmrl.rewards.scoring import allow_verifier

    for name in ('not_a_result', 'always_half', 'nan_accuracy', 'slow'):
        allow_verifier(f"{PLUGINS}:{name}")
GOOD = "<think>It is two.</think><answer>2</answer>"


def rec(response=GOOD, **fields):
    return {"id": "q1", "sample": 0, "answer": "2", "response": response, "source": "s", **fields}


def test_default_weights_are_accuracy_and_format():
    out = score_record(rec(), RewardConfig())
    assert out["rewards"] == {"accuracy": 1.0, "format": 1.0, "style": 1.0, "total": pytest.approx(1.0)}
    assert out["extracted"] == "2" and "error" not in out


def test_total_is_the_weighted_sum():
    out = score_record(rec("2"), RewardConfig(weights={"accuracy": 0.7, "format": 0.2, "style": 0.1}))
    # accuracy 1 (fallback last line), format 0 (no tags), style 1
    assert out["rewards"]["total"] == pytest.approx(0.8)


def test_sample_weights_and_verifier_win_over_the_run():
    record = rec("<think>t</think><answer>Two</answer>", answer="two",
                 reward={"verifier": "exact", "weights": {"accuracy": 1.0}, "params": {"case_sensitive": False}})
    out = score_record(record, RewardConfig(verifier="number", weights={"format": 1.0}))
    assert out["rewards"]["total"] == 1.0 and out["rewards"]["accuracy"] == 1.0


def test_run_params_are_overridden_by_sample_params():
    record = rec("<answer>100.5</answer>", answer="100", reward={"params": {"rel_tol": 0.01}})
    assert score_record(record, RewardConfig(params={"rel_tol": 1e-9}))["rewards"]["accuracy"] == 1.0


def test_verifier_default_weights_apply_when_nobody_says():
    record = rec(key_steps=["two"], reward={"verifier": "steprar"})
    out = score_record(record, RewardConfig())
    assert out["rewards"]["total"] == pytest.approx(out["rewards"]["step_rar"])


def test_format_gate_zeroes_the_total():
    out = score_record(rec("2"), RewardConfig(format_gate=True))
    assert out["rewards"]["accuracy"] == 1.0 and out["rewards"]["total"] == 0.0


def test_lenient_format_mode():
    out = score_record(rec("<answer>2</answer>"), RewardConfig(format_mode="lenient"))
    assert out["rewards"]["format"] == 0.5


def test_output_keeps_input_fields_in_order_and_does_not_mutate_input():
    record = rec(meta={"k": [1]})
    before = copy.deepcopy(record)
    out = score_record(record, RewardConfig())
    assert record == before
    assert list(out)[: len(record)] == list(record) and list(out)[len(record):] == ["extracted", "rewards"]


def test_a_stale_error_is_dropped_on_rescoring():
    out = score_record(rec(error="old", rewards={"total": 0}), RewardConfig())
    assert "error" not in out and out["rewards"]["total"] == pytest.approx(1.0)


def test_a_raising_verifier_gives_an_error_and_total_zero():
    out = score_record(rec(answer=None), RewardConfig())
    assert "no answer" in out["error"] and out["rewards"]["total"] == 0.0
    assert out["rewards"]["format"] == 1.0  # the shared components are still scored


def test_a_weight_for_a_missing_component_is_an_error():
    out = score_record(rec(), RewardConfig(weights={"map": 1.0}))
    assert "map" in out["error"] and out["rewards"]["total"] == 0.0


def test_a_verifier_returning_the_wrong_type_is_an_error():
    out = score_record(rec(reward={"verifier": f"{PLUGINS}:not_a_result"}), RewardConfig())
    assert "VerifierResult" in out["error"]


def test_a_nan_accuracy_is_an_error():
    out = score_record(rec(reward={"verifier": f"{PLUGINS}:nan_accuracy"}), RewardConfig())
    assert "finite" in out["error"]


def test_soft_timeout_in_process():
    record = rec(reward={"verifier": f"{PLUGINS}:slow", "params": {"sleep": 5}})
    out = score_record(record, RewardConfig(timeout=0.2))
    assert out["error"].startswith("timeout") and out["rewards"]["total"] == 0.0


def test_user_verifier_from_a_file_with_its_own_components():
    record = rec(reward={"verifier": f"{PLUGINS}:always_half", "weights": {"accuracy": 1.0, "bonus": 0.25}})
    out = score_record(record, RewardConfig())
    assert out["rewards"]["total"] == pytest.approx(1.0) and out["rewards"]["bonus"] == 2.0


def test_user_verifier_by_decorator():
    @register_verifier("test-constant", replace=True)
    def constant(response, sample, params):
        """Always right."""
        return VerifierResult(1.0, "x")

    try:
        out = score_record(rec(reward={"verifier": "test-constant"}), RewardConfig())
        assert out["rewards"]["accuracy"] == 1.0 and out["extracted"] == "x"
    finally:
        VERIFIERS._items.pop("test-constant", None)


def test_validate_record_names_the_field():
    assert validate_record({"id": "a"}, RewardConfig())[0] == "response"
    field, reason = validate_record(rec(reward={"verifier": "nope"}), RewardConfig())
    assert field == "reward.verifier" and "unknown verifier 'nope'" in reason
    assert validate_record(rec(reward={"weights": {"accuracy": "x"}}), RewardConfig())[0] == "reward"
    assert validate_record(rec(), RewardConfig()) is None


def test_config_validation():
    with pytest.raises(ConfigError):
        RewardConfig(format_mode="loose")
    with pytest.raises(ConfigError):
        RewardConfig(timeout=0)
    with pytest.raises(ConfigError):
        RewardConfig(progress=2.0)


def test_config_from_a_recipe_section():
    cfg = RewardConfig.from_mapping({"verifier": "number", "weights": "accuracy=1", "format-mode": "lenient",
                                     "params": {"rel_tol": 0.1}, "param": ["integer=true"]})
    assert cfg.verifier == "number" and cfg.weights == {"accuracy": 1.0} and cfg.format_mode == "lenient"
    assert cfg.params == {"rel_tol": 0.1, "integer": True}
    with pytest.raises(ConfigError, match="unknown reward setting"):
        RewardConfig.from_mapping({"verifer": "math"})


def test_parse_weights_and_params():
    assert parse_weights("accuracy=0.9, format=0.1") == {"accuracy": 0.9, "format": 0.1}
    assert parse_params(["iou_threshold=dynamic", "x=[1, 2]", "b=true"]) == {
        "iou_threshold": "dynamic", "x": [1, 2], "b": True}
    with pytest.raises(ConfigError):
        parse_weights("accuracy")
