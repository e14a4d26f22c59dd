"""`mmrl demo` on many seeds: does RL beat the SFT model on every one, within 300 s?

Runs ``mmrl demo --seed S`` as a fresh process per seed (what a user runs: every phase, from
building the model to the last eval), at most ``--jobs`` at once, reads each ``summary.json`` and
prints one row per seed, the worst gain first: held-out accuracy after SFT and after RL (greedy,
n >= 200), the gain in points, chance, the wall-clock seconds and the CPU seconds (user + system
of the demo process, from ``wait4``). The demo runs torch on one thread, so on quiet cores its
wall time is about its CPU time; on cores shared with other work the wall time grows and the CPU
time does not, so both are printed. Then the minimum and the median gain and the issue's checks:
every seed at least 20 points, the median at least 35, every run at most 300 CPU seconds. The
seeds' training curves are drawn together into ``ROOT/curves.png``.

    python benchmarks/demo_seeds.py --seeds 0-9 --jobs 2 [--root runs/demo-seeds] [--minutes M]

The peer of each seed's RL model is the same seed's SFT model, on the same held-out samples.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

MIN_SEED_GAIN, MIN_MEDIAN_GAIN, MAX_SECONDS, MIN_TEST = 20.0, 35.0, 300.0, 200


def parse_seeds(text: str) -> list[int]:
    """``0-9``, ``0,3,5`` or ``0-2,7`` -> the seeds, in order, each once."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise argparse.ArgumentTypeError(f"--seeds {text!r}: write seeds as 0-9, 0,3,5 or 0-2,7")
        for s in range(int(lo), int(hi or lo) + 1):
            if s not in seeds:
                seeds.append(s)
    if not seeds:
        raise argparse.ArgumentTypeError(f"--seeds {text!r} names no seed")
    return seeds


def mmrl_command() -> list[str]:
    exe = Path(sys.executable).with_name("mmrl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mmrl_cli.main"]


class Run:
    """One ``mmrl demo --seed S`` process, its log, its wall and CPU seconds."""

    def __init__(self, root: Path, seed: int, minutes: float | None):
        self.seed, self.out, self.log = seed, root / f"seed-{seed}", root / f"seed-{seed}.log"
        cmd = mmrl_command() + ["demo", "--seed", str(seed), "--out", str(self.out), "--overwrite"]
        if minutes is not None:
            cmd += ["--minutes", str(minutes)]
        print(f"seed {seed}: {' '.join(cmd)} (log: {self.log})", file=sys.stderr, flush=True)
        self.t0 = time.perf_counter()
        with open(self.log, "w", encoding="utf-8") as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        self.wall = self.cpu = None

    def finish(self, status: int, usage) -> dict:
        self.wall = time.perf_counter() - self.t0
        self.cpu = usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"seed {self.seed}: mmrl demo exited {code}; see {self.log}")
        summary = json.loads((self.out / "summary.json").read_text(encoding="utf-8"))
        print(f"seed {self.seed}: gain {summary['gain_points']:+.1f} points, {self.wall:.0f} s wall, "
              f"{self.cpu:.0f} s CPU", file=sys.stderr, flush=True)
        return {"seed": self.seed, "wall_seconds": round(self.wall, 1), "cpu_seconds": round(self.cpu, 1),
                "summary": summary}


def finished(root: Path, seeds: list[int]) -> list[dict]:
    """Seeds this root already holds (``--resume``): a summary.json and their times in times.json."""
    path = root / "times.json"
    times = {t["seed"]: t for t in json.loads(path.read_text(encoding="utf-8"))} if path.exists() else {}
    out = []
    for seed in seeds:
        summary = root / f"seed-{seed}" / "summary.json"
        if seed in times and summary.is_file():
            out.append({**times[seed], "summary": json.loads(summary.read_text(encoding="utf-8"))})
            print(f"seed {seed}: kept from an earlier run ({times[seed]['cpu_seconds']:.0f} s CPU)", file=sys.stderr)
    return out


def run_all(root: Path, seeds: list[int], jobs: int, minutes: float | None, resume: bool = False) -> list[dict]:
    """Every seed's demo, ``jobs`` processes at a time; CPU seconds per process from ``wait4``."""
    done = finished(root, seeds) if resume else []
    pending, running = [s for s in seeds if s not in {d["seed"] for d in done}], {}
    while pending or running:
        while pending and len(running) < jobs:
            run = Run(root, pending.pop(0), minutes)
            running[run.proc.pid] = run
        pid, status, usage = os.wait4(-1, 0)
        run = running.pop(pid, None)
        if run is not None:
            run.proc.returncode = os.waitstatus_to_exitcode(status)
            done.append(run.finish(status, usage))
            # each seed's times as soon as it ends: a later failure loses nothing measured
            (root / "times.json").write_text(json.dumps([{k: d[k] for k in ("seed", "wall_seconds", "cpu_seconds")}
                                                         for d in done], indent=2) + "\n", encoding="utf-8")
    return done


def row(result: dict) -> dict:
    s = result["summary"]
    return {"seed": result["seed"], "base": s["accuracy_base"], "sft": s["accuracy_before_rl"],
            "rl": s["accuracy_after_rl"], "gain": 100 * (s["accuracy_after_rl"] - s["accuracy_before_rl"]),
            "chance": s["chance"], "n_test": s["n_test"], "wall": result["wall_seconds"],
            "cpu": result["cpu_seconds"], "rl_steps": s["rl"]["steps"], "rl_max_steps": s["rl"]["max_steps"],
            "valid_first": s["rl"]["valid_group_frac"]["first_20"],
            "valid_last": s["rl"]["valid_group_frac"]["last_20"],
            "entropy": (s["answer_entropy_bits"]["sft"], s["answer_entropy_bits"]["rl"]),
            "by_answer": s["accuracy_by_answer"]["rl"]}


def table(rows: list[dict]) -> str:
    lines = ["| seed | SFT acc | RL acc | gain (points) | chance | held-out n | wall s | CPU s | RL steps | "
             "valid groups (first 20 / last 20 steps) | answer entropy SFT → RL (bits) | RL acc per answer |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: r["gain"]):
        per = ", ".join(f"{a} {100 * v:.0f}" for a, v in r["by_answer"].items())
        lines.append(f"| {r['seed']} | {100 * r['sft']:.1f} | {100 * r['rl']:.1f} | {r['gain']:+.1f} | "
                     f"{100 * r['chance']:.0f} | {r['n_test']} | {r['wall']:.0f} | {r['cpu']:.0f} | "
                     f"{r['rl_steps']}/{r['rl_max_steps']} | {r['valid_first']:.2f} / {r['valid_last']:.2f} | "
                     f"{r['entropy'][0]:.2f} → {r['entropy'][1]:.2f} | {per} |")
    gains = [r["gain"] for r in rows]
    lines += ["", f"gain: minimum {min(gains):+.1f}, median {median(gains):+.1f}, maximum {max(gains):+.1f} points "
              f"over {len(rows)} seeds; CPU seconds: median {median(r['cpu'] for r in rows):.0f}, "
              f"maximum {max(r['cpu'] for r in rows):.0f}; wall seconds: median {median(r['wall'] for r in rows):.0f}, "
              f"maximum {max(r['wall'] for r in rows):.0f}"]
    return "\n".join(lines)


def checks(rows: list[dict]) -> list[tuple[str, bool]]:
    gains = [r["gain"] for r in rows]
    slowest = max(r["cpu"] for r in rows)
    return [
        (f"every seed gains >= {MIN_SEED_GAIN:g} points (smallest {min(gains):+.1f})", min(gains) >= MIN_SEED_GAIN),
        (f"median gain {median(gains):+.1f} >= {MIN_MEDIAN_GAIN:g} points", median(gains) >= MIN_MEDIAN_GAIN),
        (f"every run <= {MAX_SECONDS:.0f} CPU seconds, one thread (slowest {slowest:.0f} s)", slowest <= MAX_SECONDS),
        (f"held-out samples {min(r['n_test'] for r in rows)} >= {MIN_TEST}", min(r["n_test"] for r in rows) >= MIN_TEST),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="runs/demo-seeds", help="One folder per seed is written here.")
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"), help="e.g. 0-9 or 0,3,5")
    parser.add_argument("--jobs", type=int, default=1, help="Demo processes at once (each uses one thread).")
    parser.add_argument("--minutes", type=float, default=None, help="Passed to mmrl demo (RL time budget).")
    parser.add_argument("--resume", action="store_true", help="Keep the seeds ROOT already holds (summary.json "
                        "and times.json), run the others.")
    parser.add_argument("--report-only", action="store_true", help="Run nothing: the table of the seeds ROOT "
                        "already holds (an interrupted run).")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    results = finished(root, args.seeds) if args.report_only else \
        run_all(root, args.seeds, args.jobs, args.minutes, args.resume)
    if not results:
        raise SystemExit(f"{root}: no finished seed to report")
    rows = sorted((row(r) for r in results), key=lambda r: r["seed"])
    report = {"rows": rows, "checks": [{"check": c, "ok": ok} for c, ok in checks(rows)],
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "cpus": os.cpu_count(), "jobs": args.jobs}
    (root / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    seeds = [r["seed"] for r in rows]
    subprocess.run(mmrl_command() + ["plot", *[str(root / f"seed-{s}" / "model-rl" / "metrics.jsonl") for s in seeds],
                                     *[a for s in seeds for a in ("--label", f"seed {s}")],
                                     "--metric", "accuracy/mean", "--metric", "valid_group_frac",
                                     "--metric", "answer_entropy", "-o", str(root / "curves.png"),
                                     "--title", f"mmrl demo: GRPO on {len(seeds)} seeds"], check=True)
    print(table(rows))
    print()
    for text, ok in checks(rows):
        print(f"- [{'x' if ok else ' '}] {text}")
    print(f"\nload average (1, 5, 15 min) before {tuple(round(x, 2) for x in load_before)}, after "
          f"{tuple(round(x, 2) for x in os.getloadavg())}; {os.cpu_count()} CPUs; {args.jobs} demo(s) at once")
    return 0 if all(ok for _, ok in checks(rows)) else 1


if __name__ == "__main__":
    sys.exit(main())
