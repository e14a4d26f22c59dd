"""``mmrl model``: tiny offline checkpoints for tests, demos and benchmarks."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mmrl_cli.recipes import ConfigOption

model_app = typer.Typer(help="Model utilities (tiny offline checkpoints).", no_args_is_help=True)


@model_app.command("init-tiny")
def init_tiny(
    out_dir: Path = typer.Argument(..., help="Folder to write the checkpoint to."),
    size: str = typer.Option("xs", "--size", help="xs (~0.1M params), s (~4M) or m (~10M)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Build a tiny random Qwen2.5-VL (config only, no download) with a locally trained tokenizer."""
    from mmrl.console import console
    from mmrl.io.paths import OutputFolder, check_outputs
    from mmrl.model.tiny import init_tiny as build

    check_outputs(folders=[OutputFolder(out_dir, label="OUT_DIR")])
    info = build(out_dir, size=size, seed=seed)
    console.print(
        f"wrote tiny Qwen2.5-VL ({info['size']}, {info['parameters']:,} parameters, vocab {info['vocab']}) "
        f"to {info['path']}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
