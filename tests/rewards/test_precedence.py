"""Who wins between a record's own reward spec and the run's settings: visible and controllable."""
from __future__ import annotations

import json

import pytest

from mmrl.errors import ConfigError
from mmrl.rewards.scoring import RewardConfig, override_notice, resolve_spec, spec_overrides

RECORD = {"id": "a", "answer": "1", "response": "<think>t</think><answer>1</answer>",
          "reward": {"verifier": "number", "weights": {"accuracy": 0.9, "format": 0.1}, "params": {"rel_tol": 0.1}}}


def config(mode, **kw):
    return RewardConfig(verifier="math", weights={"accuracy": 1.0, "format": 0.5}, params={"rel_tol": 0.01},
                        workers=0, reward_spec=mode, **kw)


def test_sample_mode_keeps_the_records_own_spec():
    spec = resolve_spec(RECORD, config("sample"))
    assert (spec.verifier, spec.weights, spec.params["rel_tol"]) == ("number", {"accuracy": 0.9, "format": 0.1}, 0.1)


def test_config_mode_applies_the_runs_settings():
    spec = resolve_spec(RECORD, config("config"))
    assert (spec.verifier, spec.weights, spec.params["rel_tol"]) == ("math", {"accuracy": 1.0, "format": 0.5}, 0.01)


def test_merge_mode_keeps_the_records_verifier_and_merges_the_rest_with_the_run_winning():
    record = {**RECORD, "reward": {**RECORD["reward"], "weights": {"accuracy": 0.9, "style": 0.2}}}
    spec = resolve_spec(record, config("merge"))
    assert spec.verifier == "number"
    assert spec.weights == {"accuracy": 1.0, "style": 0.2, "format": 0.5}
    assert spec.params["rel_tol"] == 0.01


def test_config_mode_falls_back_to_the_record_where_the_run_has_nothing():
    spec = resolve_spec(RECORD, RewardConfig(workers=0, reward_spec="config"))
    assert spec.weights == {"accuracy": 0.9, "format": 0.1} and spec.params["rel_tol"] == 0.1


def test_an_unknown_mode_is_refused():
    with pytest.raises(ConfigError, match="sample, config, merge"):
        RewardConfig(reward_spec="both")


def test_overrides_are_counted_per_setting_the_user_gave():
    records = [RECORD, {**RECORD, "reward": {"verifier": "math"}}, {"id": "c", "answer": "1", "response": ""}]
    counts = spec_overrides(records, config("sample"), {"weights", "verifier", "param:rel_tol"})
    assert counts == {"--verifier": 1, "--weights": 1, "--param rel_tol": 1}
    assert "--weights on 1 of 3 records" in override_notice(counts, 3)


def test_no_override_is_counted_when_the_users_settings_win():
    assert spec_overrides([RECORD], config("config"), {"weights", "verifier"}) == {}


def test_settings_the_user_did_not_give_are_not_reported():
    assert spec_overrides([RECORD], config("sample"), set()) == {}


@pytest.fixture
def scored_input(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({**RECORD, "sample": 0}) + "\n")
    return path


def test_reward_says_when_the_samples_override_weights(cli, scored_input, tmp_path):
    result = cli("reward", str(scored_input), "--workers", "0", "--weights", "accuracy=1.0,format=0.5",
                 "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert "override --weights on 1 of 1 records" in result.stderr


def test_reward_spec_config_applies_the_flags(cli, scored_input, tmp_path):
    out = tmp_path / "o.jsonl"
    result = cli("reward", str(scored_input), "--workers", "0", "--weights", "accuracy=1.0,format=0.5",
                 "--reward-spec", "config", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "override" not in result.stderr
    assert json.loads(out.read_text())["rewards"]["total"] == pytest.approx(1.5)


def test_the_r1vl_recipe_scores_step_rewards_on_synthetic_arithmetic(cli, tmp_path):
    from pathlib import Path

    from mmrl.data.synth import synthesize

    data = tmp_path / "arith.jsonl"
    synthesize(data, task="arith", n=2, seed=0, image_size=56)
    rows = [{**json.loads(line), "sample": 0} for line in data.read_text().splitlines()]
    drawn = tmp_path / "r.jsonl"
    drawn.write_text("".join(json.dumps(r) + "\n" for r in rows))  # the reference response as the draw
    recipe = Path(__file__).resolve().parents[2] / "recipes" / "r1vl_stepgrpo.yaml"
    out = tmp_path / "o.jsonl"
    result = cli("--config", str(recipe), "reward", str(drawn), "--workers", "0", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert all("step_rar" in r["rewards"] and "step_rvr" in r["rewards"] for r in scored)
