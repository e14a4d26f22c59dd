"""Does each ``--algo`` learn, seed after seed? The learning test's task, more seeds, side by side.

The task of ``tests/rl/test_learning.py``: ``data synth --task choice`` (a shape's name as a
letter, 4 options) scored half by the ``choice`` verifier, half by the strict format check; a
short warm-up SFT of the tiny model first (once, shared by every run). Each run trains 60 steps of
4 prompts x G = 8 from that model with one ``--algo`` and one ``--seed``; its row gives the mean
reward of the first and the last 5 steps, the gain, and the largest clip fraction of a step (0
when every update is on-policy). Rows are printed worst gain first, then each algorithm's
minimum and median gain. The peer of every algorithm is ``grpo`` on the same seeds.

``gspo`` runs as in the learning test, with two updates a step (``--mini-batch-size 2``), so its
sequence ratio and 3e-4 / 4e-4 clip act on the second; ``--algos`` takes ``ALGO`` or
``ALGO:flag=value,...``.

    python benchmarks/algo_learning.py --seeds 0-2 [--algos grpo,gspo:mini_batch_size=2] [--steps 60]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

DEFAULT_ALGOS = "grpo,gspo:mini_batch_size=2"
# the learning test's reward: half the choice verifier's accuracy, half the strict format check
REWARD = {"verifier": "choice", "weights": {"accuracy": 0.5, "format": 0.5}, "reward_spec": "config"}


def parse_algos(text: str) -> list[tuple[str, dict]]:
    out = []
    for part in text.split(","):
        name, _, flags = part.partition(":")
        extra = {}
        for item in filter(None, flags.split(";")):
            key, _, value = item.partition("=")
            extra[key] = int(value) if value.isdigit() else value
        out.append((name, extra))
    return out


def warm_model(root: Path) -> Path:
    """The learning test's data and warm-up SFT model under ``root``."""
    import torch

    from mmrl.data.synth import synthesize
    from mmrl.sft import SFTConfig, train as sft

    synthesize(root / "data.jsonl", task="choice", n=64, seed=0, image_size=56)
    torch.set_num_threads(1)
    sft(SFTConfig.from_flags(model=str(tiny(root)), data=str(root / "data.jsonl"), out=str(root / "sft"),
                             max_steps=200, lr=3e-3, batch_size=8))
    return root / "sft"


def tiny(root: Path) -> Path:
    from mmrl.model.tiny import init_tiny

    init_tiny(root / "tiny", size="xs", seed=0)
    return root / "tiny"


def run(model: Path, data: Path, out: Path, algo: str, extra: dict, seed: int, steps: int) -> dict:
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import train

    t0 = time.perf_counter()
    history = train(GRPOConfig.from_flags(model=str(model), data=str(data), out=str(out), algo=algo, max_steps=steps,
                                          batch_size=4, group_size=8, max_new_tokens=40, lr=2e-3, reward_workers=0,
                                          sample_steps=steps + 1, seed=seed, **REWARD, **extra)).history
    rewards = [row["reward/mean"] for row in history]
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5
    return {"algo": algo, "seed": seed, "first": first, "last": last, "gain": last - first,
            "clip": max(row.get("clip_frac", 0.0) for row in history), "seconds": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-2", help="0-2 or 0,3,5")
    ap.add_argument("--algos", default=DEFAULT_ALGOS, help="ALGO or ALGO:flag=value;flag=value, comma-separated")
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    seeds = [s for part in args.seeds.split(",") for s in
             (range(int(part.split("-")[0]), int(part.split("-")[1]) + 1) if "-" in part else [int(part)])]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("warm-up SFT ...", file=sys.stderr)
        model = warm_model(root)
        for algo, extra in parse_algos(args.algos):
            for seed in seeds:
                row = run(model, root / "data.jsonl", root / f"{algo}-{seed}", algo, extra, seed, args.steps)
                print(f"{algo} seed {seed}: gain {row['gain']:+.3f}", file=sys.stderr)
                rows.append(row)
    print(f"{'algo':<8} {'seed':>4} {'first 5':>8} {'last 5':>8} {'gain':>7} {'max clip':>9} {'s':>5}")
    for r in sorted(rows, key=lambda r: r["gain"]):
        print(f"{r['algo']:<8} {r['seed']:>4} {r['first']:>8.3f} {r['last']:>8.3f} {r['gain']:>+7.3f} "
              f"{r['clip']:>9.4f} {r['seconds']:>5.0f}")
    for algo in dict.fromkeys(r["algo"] for r in rows):
        gains = [r["gain"] for r in rows if r["algo"] == algo]
        print(f"{algo}: min gain {min(gains):+.3f}, median {median(gains):+.3f} over {len(gains)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
