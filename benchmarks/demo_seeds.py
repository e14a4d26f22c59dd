"""`mmrl demo` on three seeds: does RL make the model better, every time, within ten minutes?

Runs ``mmrl demo --seed S`` as a fresh process per seed (what a user runs: every phase, from
building the model to the last eval, in the wall-clock time), reads each ``summary.json`` and
prints one row per seed: held-out accuracy after SFT and after RL, the gain in points, chance,
wall-clock seconds and RL steps done. Then the issue's checks: the mean gain at least 20 points,
no seed below 15, every run within 10 minutes, at least 100 held-out samples. The seeds' training
curves are drawn together into ``ROOT/curves.png``.

    OMP_NUM_THREADS=1 python benchmarks/demo_seeds.py --root runs/demo-seeds [--seeds 0 1 2] [--minutes M]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MIN_MEAN_GAIN, MIN_SEED_GAIN, MAX_SECONDS, MIN_TEST = 20.0, 15.0, 600.0, 100


def mmrl_command() -> list[str]:
    exe = Path(sys.executable).with_name("mmrl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mmrl_cli.main"]


def run_seed(root: Path, seed: int, minutes: float | None) -> dict:
    out = root / f"seed-{seed}"
    cmd = mmrl_command() + ["demo", "--seed", str(seed), "--out", str(out), "--overwrite"]
    if minutes is not None:
        cmd += ["--minutes", str(minutes)]
    log = root / f"seed-{seed}.log"
    print(f"seed {seed}: {' '.join(cmd)} (log: {log})", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=True)
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"seed": seed, "wall_seconds": round(wall, 1), "summary": summary}


def row(result: dict) -> dict:
    s = result["summary"]
    return {"seed": result["seed"], "base": s["accuracy_base"], "sft": s["accuracy_before_rl"],
            "rl": s["accuracy_after_rl"], "gain": 100 * (s["accuracy_after_rl"] - s["accuracy_before_rl"]),
            "chance": s["chance"], "n_test": s["n_test"], "seconds": result["wall_seconds"],
            "rl_steps": s["rl"]["steps"], "rl_max_steps": s["rl"]["max_steps"],
            "tasks": {t["task"]: (t["accuracy_before_rl"], t["accuracy_after_rl"]) for t in s["tasks"]}}


def table(rows: list[dict]) -> str:
    lines = ["| seed | base acc | SFT acc | RL acc | gain (points) | chance | held-out n | seconds (wall) | RL steps |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {100 * r['base']:.1f} | {100 * r['sft']:.1f} | {100 * r['rl']:.1f} | "
                     f"{r['gain']:+.1f} | {100 * r['chance']:.0f} | {r['n_test']} | {r['seconds']:.0f} | "
                     f"{r['rl_steps']}/{r['rl_max_steps']} |")
    tasks = sorted({t for r in rows for t in r["tasks"]})
    lines += ["", "| seed | " + " | ".join(f"{t}: SFT → RL" for t in tasks) + " |",
              "|---:|" + "---:|" * len(tasks)]
    for r in rows:
        cells = [f"{100 * r['tasks'][t][0]:.1f} → {100 * r['tasks'][t][1]:.1f}" if t in r["tasks"] else "-"
                 for t in tasks]
        lines.append(f"| {r['seed']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def checks(rows: list[dict]) -> list[tuple[str, bool]]:
    gains = [r["gain"] for r in rows]
    mean = sum(gains) / len(gains)
    return [
        (f"mean gain {mean:.1f} >= {MIN_MEAN_GAIN:g} points", mean >= MIN_MEAN_GAIN),
        (f"smallest gain {min(gains):.1f} >= {MIN_SEED_GAIN:g} points", min(gains) >= MIN_SEED_GAIN),
        (f"slowest run {max(r['seconds'] for r in rows):.0f} s <= {MAX_SECONDS:.0f} s",
         max(r["seconds"] for r in rows) <= MAX_SECONDS),
        (f"held-out samples {min(r['n_test'] for r in rows)} >= {MIN_TEST}", min(r["n_test"] for r in rows) >= MIN_TEST),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="runs/demo-seeds", help="One folder per seed is written here.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=None, help="Passed to mmrl demo (RL time budget).")
    args = parser.parse_args()
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    results = [run_seed(root, s, args.minutes) for s in args.seeds]
    rows = [row(r) for r in results]
    report = {"rows": rows, "checks": [{"check": c, "ok": ok} for c, ok in checks(rows)],
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "cpus": os.cpu_count(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
    (root / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    subprocess.run(mmrl_command() + ["plot", *[str(root / f"seed-{s}" / "model-rl" / "metrics.jsonl") for s in args.seeds],
                                     *[a for s in args.seeds for a in ("--label", f"seed {s}")],
                                     "-o", str(root / "curves.png"), "--title", "mmrl demo: GRPO on three seeds"],
                   check=True)
    print(table(rows))
    print()
    for text, ok in checks(rows):
        print(f"- [{'x' if ok else ' '}] {text}")
    print(f"\nload average (1, 5, 15 min) before {tuple(round(x, 2) for x in load_before)}, after "
          f"{tuple(round(x, 2) for x in os.getloadavg())}; {os.cpu_count()} CPUs; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    return 0 if all(ok for _, ok in checks(rows)) else 1


if __name__ == "__main__":
    sys.exit(main())
