"""`mmrl rollout | mmrl reward - | mmrl grade -` as a shell pipeline, and `grade --model`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmrl.io.jsonl import read_jsonl
from mmrl.io.schema import check_graded


def mmrl_exe() -> str:
    exe = Path(sys.executable).parent / "mmrl"
    return str(exe) if exe.exists() else shutil.which("mmrl") or "mmrl"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_shell_pipeline(tiny_model_dir, synth_file, tmp_path):
    mmrl = mmrl_exe()
    graded = tmp_path / "graded.jsonl"
    cmd = (f"{mmrl} rollout --model {tiny_model_dir} --data {synth_file} -n 4 --max-new-tokens 6 --seed 0 "
           f"| {mmrl} reward - --workers 0 | {mmrl} grade - -o {graded} --k 1,2,4")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, capture_output=True, text=True,
                          timeout=280, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    records = read_jsonl(graded)
    assert [r["id"] for r in records] == [s["id"] for s in read_jsonl(synth_file)]
    for r in records:
        assert check_graded(r) == [] and r["n"] == 4 and set(r["pass_at_k"]) == {"1", "2", "4"}
    assert "grade by source" in done.stderr


def test_grade_draws_and_scores_itself(cli, tiny_model_dir, synth_file, tmp_path):
    out, rollouts = tmp_path / "g.jsonl", tmp_path / "scored.jsonl"
    result = cli("grade", synth_file, "--model", tiny_model_dir, "-n", "2", "--max-new-tokens", "4", "--seed", "0",
                 "--rollouts", str(rollouts), "-o", str(out), "--k", "1,2")
    assert result.exit_code == 0, result.output
    scored = read_jsonl(rollouts)
    assert len(scored) == 2 * len(read_jsonl(synth_file)) and all("rewards" in r for r in scored)
    graded = read_jsonl(out)
    assert len(graded) == len(read_jsonl(synth_file)) and all(r["n"] == 2 for r in graded)
