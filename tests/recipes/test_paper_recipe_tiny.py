"""A paper recipe at ``--scale tiny`` does what the paper's mechanism does, not only log its keys.

One recipe is run here (R1-VL: warm-up SFT on Mulberry-format data, then StepGRPO), the one whose
tiny scale needs the most for its mechanism to fire (the random model must learn Mulberry's sections
before StepRVR/StepRAR score anything). ``benchmarks/recipes_tiny.py`` runs all four against the
same requirements (``mmrl.recipes.mechanisms``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmrl.recipes.mechanisms import unmet

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_r1vl_tiny_scale_fires_step_rar_and_step_rvr(cli, tmp_path, tiny_model_dir):
    out = tmp_path / "r1vl"
    result = cli("recipe", "run", str(ROOT / "recipes" / "r1vl_stepgrpo.yaml"), "--model", tiny_model_dir,
                 "--out", str(out), "--scale", "tiny")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in (out / "grpo" / "metrics.jsonl").read_text().splitlines()]
    assert unmet("r1vl_stepgrpo", rows) == []
