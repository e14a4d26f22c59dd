"""Each paper recipe's `grpo` section runs two steps on the tiny model (sizes shrunk by flags)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ["glm41v_rlcs.yaml", "r1vl_stepgrpo.yaml", "vtriune.yaml", "mm_eureka.yaml"]
# what shows each paper's mechanism in every step's metrics line
MECHANISM_METRICS = {
    "glm41v_rlcs.yaml": ("forced_frac", "oversample_expansion", "curriculum/weight_mean", "curriculum/pass_rate_mean",
                         "filter/kept_frac", "filter/group_kept_frac", "format/mean", "style/mean"),
    "r1vl_stepgrpo.yaml": ("step_rar/mean", "step_rvr/mean", "key_step_match/mean", "kl"),
    "vtriune.yaml": ("iou_threshold", "format/mean"),
    "mm_eureka.yaml": ("filter/kept_frac", "format/mean"),
}
SHRINK = ["--max-steps", "2", "--batch-size", "2", "--mini-batch-size", "1", "-G", "2", "--max-new-tokens", "8",
          "--think-budget", "4", "--answer-budget", "2", "--reward-workers", "0", "--sample-steps", "1"]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("recipe", PAPERS)
def test_the_recipe_grpo_section_runs_two_steps(recipe, cli, tiny_model_dir, parity_file, tmp_path):
    out = tmp_path / "rl"
    # the parity samples are ungraded: an offline difficulty band (GLM's, MM-Eureka's) would refuse them
    ungraded = ["--allow-ungraded"] if recipe in ("glm41v_rlcs.yaml", "mm_eureka.yaml") else []
    result = cli("--config", str(ROOT / "recipes" / recipe), "grpo", "--model", tiny_model_dir,
                 "--data", parity_file, "--out", str(out), *SHRINK, *ungraded)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert set(MECHANISM_METRICS[recipe]) <= set(row), sorted(set(MECHANISM_METRICS[recipe]) - set(row))
    if recipe == "mm_eureka.yaml":  # a mini-batch of half the batch: two updates per step
        assert all(r.get("updates") == 2 for r in rows if "updates" in r)
    if recipe == "vtriune.yaml":
        assert rows[0]["iou_threshold"] == 0.85  # the dynamic schedule at the start of training


@pytest.mark.parametrize("recipe", PAPERS)
def test_the_recipe_has_a_grpo_section_with_an_algorithm(recipe):
    import yaml

    section = yaml.safe_load((ROOT / "recipes" / recipe).read_text())["grpo"]
    assert section["algo"] in ("grpo", "rloo", "dapo", "stepgrpo", "drgrpo", "reinforce_pp")
