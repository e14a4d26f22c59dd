"""`mmrl grpo` under DeepSpeed ZeRO-2 and ZeRO-3 on two CPU processes trains what one process trains.

``torchrun`` starts two processes that talk through gloo. Each draws the same prompts, generates
and scores its share, gathers the batch, and trains its share of every mini-batch; ZeRO-3 also
partitions the weights (gathered once for each rollout). The step below makes two updates (two
mini-batches, so the old log-prob pass runs, shared over the processes) with a KL term (the
reference pass, shared too); one process with the same settings must end with the same weights
up to float rounding, and the same rewards and losses.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("deepspeed", reason="the test extra installs deepspeed")
pytestmark = pytest.mark.slow

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "deepspeed"
PARITY = '''
from mmrl.rewards.base import VerifierResult


def parity(response, sample, params):
    return VerifierResult(float(len(response) % 2 == 0), str(len(response)))
'''


@pytest.fixture(scope="module")
def setup(synth_file, tmp_path_factory):
    """The synthetic samples without their own reward spec, and a parity verifier in a file (the
    processes torchrun starts know only what a file or mmrl itself registers)."""
    folder = Path(synth_file).parent
    verifier = tmp_path_factory.mktemp("verifier") / "parity.py"
    verifier.write_text(PARITY)
    data = folder / "no_reward.jsonl"
    with open(synth_file, encoding="utf-8") as f, open(data, "w", encoding="utf-8") as g:
        for line in f:
            record = json.loads(line)
            record.pop("reward", None)
            g.write(json.dumps(record) + "\n")
    return str(data), f"{verifier}:parity"


def args(model: str, data: str, verifier: str, out: Path) -> list[str]:
    return ["--model", model, "--data", data, "--out", str(out), "--verifier", verifier, "--batch-size", "4",
            "--mini-batch-size", "2", "-G", "4", "--max-steps", "2", "--max-new-tokens", "8", "--lr", "1e-2",
            "--beta", "0.1", "--reward-workers", "0", "--sample-steps", "1"]


def _env() -> dict[str, str]:
    return {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}


def _weights(folder) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


def _metrics(folder) -> list[dict]:
    return [json.loads(x) for x in Path(folder, "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def single(tiny_model_dir, setup, tmp_path_factory):
    data, verifier = setup
    out = tmp_path_factory.mktemp("single") / "run"
    r = subprocess.run([sys.executable, "-m", "mmrl_cli.main", "grpo", *args(tiny_model_dir, data, verifier, out)],
                       env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-5000:]
    return out


@pytest.mark.parametrize("stage, extra", [
    ("zero2", []), ("zero3", []),
    # memory settings: the responses three rows at a time (the prompts once), checkpointing
    ("zero2", ["--micro-batch-rows", "3", "--gradient-checkpointing"]),
    ("zero3", ["--gradient-checkpointing"]),
])
def test_two_process_zero_matches_one_process(stage, extra, single, tiny_model_dir, setup, tmp_path):
    data, verifier = setup
    out = tmp_path / stage
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "mmrl_cli.main", "grpo", *args(tiny_model_dir, data, verifier, out),
           "--deepspeed", str(RECIPES / f"{stage}.json"), *extra]
    r = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    one, two = _metrics(single), _metrics(out)
    assert [m["updates"] for m in two] == [2, 2]
    for key in ("reward/mean", "response_len/mean"):
        assert [m[key] for m in two] == [m[key] for m in one], key  # the same draws, split over processes
    for key in ("loss", "kl", "grad_norm"):
        assert [m[key] for m in two] == pytest.approx([m[key] for m in one], rel=1e-4, abs=1e-6), key
    ref, got, initial = _weights(single), _weights(out), _weights(tiny_model_dir)
    assert ref.keys() == got.keys()
    moved = max(float((ref[k] - initial[k]).abs().max()) for k in ref)
    worst = max(float((ref[k] - got[k]).abs().max()) for k in ref)
    # Adam normalises each update, so rounding noise in a near-zero gradient can move a weight by up
    # to ~lr; compare against how far training moved the weights, not against exact zero.
    assert moved > 1e-3 and worst < 1e-4, (moved, worst)


def test_batches_that_do_not_split_evenly_are_refused():
    from mmrl.errors import ConfigError
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import check_world

    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=3, deepspeed="zero2.json")
    with pytest.raises(ConfigError, match="multiple of the 2 processes"):
        check_world(cfg, 2)


def test_rows_in_pieces_are_refused_under_zero3(tmp_path):
    from mmrl.errors import ConfigError
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import build_engine
    from mmrl.train.distributed import DistInfo, OptimSpec

    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=4, micro_batch_rows=2,
                     deepspeed=str(RECIPES / "zero3.json"))
    with pytest.raises(ConfigError, match="ZeRO-3"):
        build_engine(cfg, None, OptimSpec(lr=1e-3), DistInfo(0, 2, 0))


def test_several_processes_need_deepspeed(monkeypatch):
    from mmrl.errors import ConfigError
    from mmrl.rl.config import GRPOConfig
    from mmrl.train.training_run import TrainingRun

    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = GRPOConfig.from_flags(model="m", data="d", out="o", batch_size=4)
    with pytest.raises(ConfigError, match="without --deepspeed"):
        TrainingRun("grpo", cfg.run, (), config={})


def test_zero2_with_a_short_mini_batch_trains_what_one_process_without_deepspeed_trains(
        tiny_model_dir, setup, tmp_path):
    """ZeRO-2, batch 3, mini-batch 2, micro-batch 1, two steps: four updates, each applied at its
    own mini-batch's end (DeepSpeed's count of 2 backwards per update applied three, mixing the
    short mini-batch's gradient into the next step's and never applying the run's last)."""
    data, verifier = setup
    base = ["--model", tiny_model_dir, "--data", data, "--verifier", verifier, "--batch-size", "3", "--mini-batch-size", "2",
            "--micro-batch-size", "1", "-G", "4", "--max-steps", "2", "--max-new-tokens", "6", "--lr", "1e-2",
            "--scheduler", "linear", "--reward-workers", "0", "--sample-steps", "1"]
    outs = {}
    for name, extra in (("plain", []), ("zero2", ["--deepspeed", str(RECIPES / "zero2.json")])):
        outs[name] = tmp_path / name
        run = subprocess.run([sys.executable, "-m", "mmrl_cli.main", "grpo", *base, "--out", str(outs[name]), *extra],
                             env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-4000:]
    rows = {k: _metrics(v) for k, v in outs.items()}
    assert [r["updates"] for r in rows["zero2"]] == [2, 2]
    assert [r["lr"] for r in rows["zero2"]] == pytest.approx([r["lr"] for r in rows["plain"]])
    ref, got, start = _weights(outs["plain"]), _weights(outs["zero2"]), _weights(tiny_model_dir)
    moved = max(float((ref[k] - start[k]).abs().max()) for k in ref)
    worst = max(float((ref[k] - got[k]).abs().max()) for k in ref)
    assert moved > 1e-3 and worst < 1e-4, (moved, worst)
