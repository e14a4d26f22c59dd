"""Each paper's recipe end to end at ``--scale tiny``: exit status, wall and CPU seconds, and what its
grpo stage shows (issue 23: within 180 s here, at least one step with ``updates > 0``, the mechanism's
metrics in ``metrics.jsonl``), and whether each mechanism really acted (``mmrl.recipes.mechanisms``: a step whose
rewards differ within a group, and per paper the value that shows its mechanism firing, non-zero where
a zero would mean it never fired; a key being present proves nothing, a step logs ``updates: 1`` even
when every advantage is 0).

Runs ``mmrl recipe run RECIPE --model TINY --out ROOT/RECIPE --scale tiny`` as a fresh process per
recipe and run (what a user types; a fresh ``--out`` each time, so nothing is kept from before),
one at a time, and prints one row per run, the slowest first: exit status, wall and CPU seconds
(user + system of the process, from ``wait4``), the 1-minute load average before it started (the
machine is shared: the wall time grows with the load and the CPU time does not), the seconds of
each stage, the grpo steps with ``updates > 0``, the steps whose rewards differ within a group
(``advantage/mean_abs > 0``), and which of the recipe's mechanism requirements its
``grpo/metrics.jsonl`` fails. The peer of each recipe's trained model is the model it
started from (the eval stage's before/after table in ``ROOT/RECIPE/report.json``).

    python benchmarks/recipes_tiny.py [--recipes glm41v_rlcs,r1vl_stepgrpo,vtriune,mm_eureka] [--runs 1]
                                      [--root runs/recipes-tiny] [--model DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mmrl.recipes.mechanisms import sources_rewarded, unmet

MAX_SECONDS = 180.0
RECIPES = ["glm41v_rlcs", "r1vl_stepgrpo", "vtriune", "mm_eureka"]
# the values that show each recipe's mechanism at work, printed as min-max over the run's steps
SHOWN = {
    "glm41v_rlcs": ["forced_frac", "oversample_expansion", "curriculum/weight_mean"],
    "r1vl_stepgrpo": ["step_rar/mean", "step_rvr/mean", "key_step_match/mean", "kl"],
    "vtriune": ["iou_threshold"],
    "mm_eureka": ["updates", "filter/kept_frac"],
}


def shown(recipe: str, steps: list[dict]) -> str:
    """``key lo-hi`` for each value that shows the recipe's mechanism (V-Triune: the sources rewarded too)."""
    parts = []
    for key in SHOWN.get(recipe, []):
        values = [s[key] for s in steps if isinstance(s.get(key), (int, float))]
        parts.append(f"{key} {min(values):.3g}-{max(values):.3g}" if values else f"{key} absent")
    if recipe == "vtriune":
        parts.append("rewarded: " + (",".join(sorted(sources_rewarded(steps))) or "none"))
    return "; ".join(parts)


def mmrl() -> str:
    return str(Path(sys.executable).with_name("mmrl"))


def run_one(recipe: str, model: str, out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    load = os.getloadavg()[0]
    started = time.monotonic()
    log = out.with_suffix(".log")
    with open(log, "w") as f:
        proc = subprocess.Popen([mmrl(), "recipe", "run", recipe, "--model", model, "--out", str(out),
                                 "--scale", "tiny"], stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    row = {"recipe": recipe, "exit": os.waitstatus_to_exitcode(status), "wall_s": wall,
           "cpu_s": usage.ru_utime + usage.ru_stime, "load": load, "log": str(log)}
    row["stages"] = {s.name: json.loads((s / "stage.json").read_text()).get("seconds")
                     for s in sorted(out.iterdir()) if (s / "stage.json").is_file()} if out.is_dir() else {}
    metrics = out / "grpo" / "metrics.jsonl"
    steps = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.is_file() else []
    row["steps"] = len(steps)
    row["updating_steps"] = sum(1 for s in steps if (s.get("updates") or 0) > 0)
    row["max_updates"] = max((s.get("updates") or 0 for s in steps), default=0)
    row["moving_steps"] = sum(1 for s in steps if (s.get("advantage/mean_abs") or 0) > 0)
    row["unmet"] = unmet(Path(recipe).stem, steps)
    row["shown"] = shown(Path(recipe).stem, steps)
    return row


def run_failures(row: dict) -> list[str]:
    """What one run failed: the exit status, the time limit, an update, the mechanism requirements."""
    failed = [] if row["exit"] == 0 else [f"exit {row['exit']}"]
    if row["wall_s"] > MAX_SECONDS:
        failed.append(f"wall {row['wall_s']:.0f} s > {MAX_SECONDS:.0f} s")
    if row["updating_steps"] == 0:
        failed.append("no step with updates > 0")
    return failed + row["unmet"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--runs", type=int, default=1, help="Runs of each recipe (the spread is printed).")
    parser.add_argument("--root", default="runs/recipes-tiny")
    parser.add_argument("--model", default=None, help="A tiny model (default: mmrl model init-tiny ROOT/tiny).")
    args = parser.parse_args()
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    model = args.model or str(root / "tiny")
    if args.model is None and not (root / "tiny" / "config.json").is_file():
        subprocess.run([mmrl(), "model", "init-tiny", model, "--size", "xs"], check=True)
    rows = [run_one(recipe, model, root / f"{recipe}-{i}")
            for i in range(args.runs) for recipe in args.recipes.split(",")]
    print(f"{'recipe':15s} {'exit':>4s} {'wall s':>7s} {'cpu s':>6s} {'load':>5s} {'steps':>5s} "
          f"{'upd>0':>5s} {'max upd':>7s} {'adv>0':>5s}  stages (s)  unmet mechanism requirements")
    for r in sorted(rows, key=lambda r: -r["wall_s"]):
        stages = " ".join(f"{k}={v:.0f}" for k, v in r["stages"].items() if v is not None)
        print(f"{r['recipe']:15s} {r['exit']:4d} {r['wall_s']:7.1f} {r['cpu_s']:6.1f} {r['load']:5.1f} "
              f"{r['steps']:5d} {r['updating_steps']:5d} {r['max_updates']:7d} {r['moving_steps']:5d}  {stages}  "
              f"{'; '.join(r['unmet']) or '-'}")
        print(f"{'':15s} {r['shown']}")
    failures = [(r["recipe"], failed) for r in rows if (failed := run_failures(r))]
    print(f"\n{len(rows) - len(failures)} of {len(rows)} runs: exit 0, within {MAX_SECONDS:.0f} s, a step with "
          "updates > 0, every mechanism requirement met"
          + "".join(f"\nFAILED {recipe}: {'; '.join(failed)}" for recipe, failed in failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
