"""``mmrl demo``: the whole pipeline on the embedded default, RL making a tiny model better."""
from __future__ import annotations

from typing import Optional

import typer


def demo(
    out: str = typer.Option("runs/demo", "--out", "-o", help="Folder for everything the demo writes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data, the model and every phase."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="Time budget of the RL phase in minutes: no "
                                            "step starts that would end past it; the model is then evaluated."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace what --out already holds."),
    threads: int = typer.Option(1, "--threads", min=1, help="torch threads (one is fastest for the tiny model, "
                                "and cannot stall on a CPU shared with other work)."),
    quick: bool = typer.Option(False, "--quick", help="A seconds-long run of every phase with tiny settings: "
                               "checks the set-up and the artefacts, shows no learning."),
) -> None:
    """Synthetic data, a tiny random Qwen2.5-VL, warm-up SFT, grade, GRPO and eval, all on the CPU:
    prints accuracy per task before and after RL, writes OUT/summary.json and OUT/curves.png."""
    from dataclasses import replace

    from mmrl.demo import DemoConfig, quick as quick_config, run_demo

    cfg = quick_config(out, seed) if quick else DemoConfig(out=out, seed=seed)
    run_demo(replace(cfg, minutes=minutes, threads=threads), overwrite=overwrite)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
