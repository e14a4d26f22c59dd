"""`mmrl data synth --recipe`: data each paper recipe trains on, which that recipe's own reward
settings score as right (so the recipe and its data agree on the format)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mmrl.data.synth import synthesize
from mmrl.data.synth.recipes import RECIPE_DATA, generate_for
from mmrl.io.jsonl import read_jsonl
from mmrl.io.schema import validate_file
from mmrl.rewards.scoring import RewardConfig, score_record
from mmrl.sft.mulberry import converted

ROOT = Path(__file__).resolve().parents[2]
RECIPE_FILE = {"glm41v": "glm41v_rlcs.yaml", "r1vl": "r1vl_stepgrpo.yaml", "vtriune": "vtriune.yaml",
               "mm_eureka": "mm_eureka.yaml"}
REWARD_KEYS = set(RewardConfig.__dataclass_fields__) | {"param"}


def records(name, n=8):
    return [r for _, r in generate_for(name, n, seed=0, image_size=56)]


def recipe_reward(name, section="grpo"):
    settings = yaml.safe_load((ROOT / "recipes" / RECIPE_FILE[name]).read_text())[section]
    return RewardConfig.from_mapping({**{k: v for k, v in settings.items() if k in REWARD_KEYS}, "workers": 0})


@pytest.mark.parametrize("name", list(RECIPE_DATA))
def test_recipe_data_is_spec_valid_and_a_prefix_of_a_longer_run(name, tmp_path):
    out = tmp_path / "d.jsonl"
    synthesize(out, n=8, seed=0, image_size=56, recipe=name)
    assert validate_file(out, kind="sample") == (8, [])
    assert records(name, 4) == records(name, 8)[:4]


@pytest.mark.parametrize("name", ["glm41v", "vtriune", "mm_eureka"])
def test_the_reference_answers_score_full_marks_under_their_recipe(name):
    cfg = recipe_reward(name)
    for r in records(name):
        out = score_record(r, cfg)
        assert out["rewards"]["accuracy"] == 1.0 and "gate" not in out and "error" not in out, (r["id"], out)


def test_glm_answers_are_in_the_box():
    for r in records("glm41v"):
        assert r["response"].endswith("<answer><|begin_of_box|>" + str(r["answer"]) + "<|end_of_box|></answer>") \
            or "<|begin_of_box|>" in r["response"]
        assert r["reward"]["weights"] == {"accuracy": 1.0}  # the format is GLM's gate, not a weight


def test_r1vl_is_mulberry_format_with_key_steps_that_the_step_rewards_find():
    cfg = recipe_reward("r1vl")
    for r in records("r1vl"):
        assert r["response"].startswith("### Image Description:") and "### Rationales:" in r["response"]
        assert r["key_steps"]
        for response in (r["response"], converted(r)["response"]):  # as written, and as warm-up reads it
            out = score_record({**r, "response": response}, cfg)["rewards"]
            assert (out["step_rvr"], out["key_step_match"]) == (1.0, 1.0)
            assert out["step_rar"] == pytest.approx(1.1) and out["total"] == pytest.approx(2.1)


def test_vtriune_mixes_perception_and_reasoning_each_with_its_verifier():
    rs = records("vtriune")
    assert {r["reward"]["verifier"] for r in rs} == {"map", "iou", "math"}
    assert len({r["source"] for r in rs}) == 4
    assert all(r["reward"]["weights"] == {"accuracy": 0.9091, "format": 0.0909} for r in rs)


def test_mm_eureka_is_k12_maths_with_few_answers():
    rs = records("mm_eureka")
    assert {r["reward"]["verifier"] for r in rs} == {"math"} and {r["answer"] for r in rs} <= {"1", "2", "3", "4"}


def test_cli_writes_recipe_data(cli, tmp_path):
    out = tmp_path / "d.jsonl"
    result = cli("data", "synth", "--recipe", "r1vl", "-o", str(out), "--n", "3", "--image-size", "56")
    assert result.exit_code == 0, result.stderr
    assert len(read_jsonl(out)) == 3


def test_cli_refuses_task_and_recipe_together_and_unknown_recipes(cli, tmp_path):
    both = cli("data", "synth", "--recipe", "r1vl", "--task", "arith", "-o", str(tmp_path / "a.jsonl"))
    unknown = cli("data", "synth", "--recipe", "glm", "-o", str(tmp_path / "b.jsonl"))
    assert both.exit_code == 2 and "--task or --recipe" in both.stderr
    assert unknown.exit_code == 2 and "glm41v" in unknown.stderr
    assert not (tmp_path / "b.jsonl").exists() and not (tmp_path / "images").exists()
