"""The paper recipes do what their papers did: the reward settings of grading and training agree,
V-Triune's schedule applies over the samples' own specs, and every value names its source."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mmrl.rewards.scoring import RewardConfig, score_record

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
REWARD_KEYS = set(RewardConfig.__dataclass_fields__) | {"param"}
# the sections these recipes set for the single commands (a runner may add its own after them)
COMMAND_SECTIONS = ("warmup_sft", "rollout", "reward", "grade", "eval", "grpo")


def section(name, key):
    return yaml.safe_load((ROOT / "recipes" / name).read_text())[key]


def reward_config(settings):
    """The reward settings of a recipe section as scoring reads them (what `reward` and `grpo` build)."""
    return RewardConfig.from_mapping({**{k: v for k, v in settings.items() if k in REWARD_KEYS}, "workers": 0})


def test_glm_reward_and_grpo_agree_on_the_box():
    sample = {"id": "a", "answer": "4", "reward": {"verifier": "math"}}
    boxed = "<think>2 + 2 = 4.</think><answer><|begin_of_box|>4<|end_of_box|></answer>"
    bare = "<think>2 + 2 = 4.</think><answer>4</answer>"
    for key in ("reward", "grpo"):
        cfg = reward_config(section("glm41v_rlcs.yaml", key))
        assert score_record({**sample, "response": boxed}, cfg)["rewards"]["total"] == 1.0, key
        assert score_record({**sample, "response": bare}, cfg)["rewards"]["total"] == 0.0, key


def test_glm_prompt_asks_for_the_box_everywhere_it_is_sampled_or_trained():
    for key in ("warmup_sft", "rollout", "grpo"):
        assert "<|begin_of_box|>" in section("glm41v_rlcs.yaml", key)["instruction"], key


def test_glm_gives_mixed_language_the_minimum_in_both_sections():
    mixed = ("<think>The sum of two and two is four, as anyone can check.\n\n"
             "二加二等于四，这个答案是非常清楚的，没有任何疑问。</think><answer><|begin_of_box|>4<|end_of_box|></answer>")
    for key in ("reward", "grpo"):
        out = score_record({"id": "a", "answer": "4", "response": mixed}, reward_config(section("glm41v_rlcs.yaml", key)))
        assert out["rewards"]["accuracy"] == 1.0 and out["rewards"]["total"] == 0.0 and out["gate"] == "style", key


@pytest.mark.parametrize("key", ["reward", "grpo"])
def test_vtriune_dynamic_iou_and_weights_apply_over_the_samples_own_spec(key):
    # a sample as `data synth` writes it: IoU 0.5 and weights 0.9/0.1 of its own; the answer's IoU is 0.8
    sample = {"id": "a", "answer": [0, 0, 10, 10],
              "reward": {"verifier": "iou", "weights": {"accuracy": 0.9, "format": 0.1},
                         "params": {"iou_threshold": 0.5}},
              "response": "<think>It is there.</think><answer>[0, 0, 10, 8]</answer>"}
    cfg = reward_config({**section("vtriune.yaml", key), "progress": 0.05})
    out = score_record(sample, cfg)
    assert out["rewards"]["accuracy"] == 0.0  # below the early threshold 0.85, though above the sample's 0.5
    assert out["rewards"]["total"] == pytest.approx(0.0909)  # the format part under the recipe's weights


def test_r1vl_warmup_follows_the_released_config():
    s = section("r1vl_warmup.yaml", "warmup_sft")
    assert (s["lr"], s["epochs"], s["weight_decay"], s["batch_size"] * s["grad_accum"]) == (2e-5, 2, 0.05, 128)


def test_official_run_values():
    assert section("r1vl_stepgrpo.yaml", "grpo")["batch_size"] == 4
    v = section("vtriune.yaml", "grpo")
    assert (v["batch_size"], v["beta"], v["max_new_tokens"]) == (1024, 0.001, 2048)
    m = section("mm_eureka.yaml", "grpo")
    assert (m["lr"], m["max_new_tokens"], m["batch_size"] * 8 // m["mini_batch_size"] // 8) == (3e-7, 4096, 16)


def _value_lines(text):
    """(line number, line) of every `key: value` line inside the command sections."""
    current = None
    for n, line in enumerate(text.splitlines(), start=1):
        top = re.match(r"^([A-Za-z_]+):", line)
        if top:
            current = top.group(1)
            continue
        if current in COMMAND_SECTIONS and re.match(r"^\s+[A-Za-z_0-9]+:\s*\S", line) and not line.strip().startswith("#"):
            yield n, line


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_every_value_names_its_source(recipe):
    lines = recipe.read_text().splitlines()
    bare = [f"{recipe.name}:{n}: {line.strip()}" for n, line in _value_lines(recipe.read_text())
            if "#" not in line and not lines[n - 2].strip().startswith("#")]
    assert not bare, "values without a comment naming their source:\n" + "\n".join(bare)
