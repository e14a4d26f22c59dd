"""``mmrl data``: the built-in synthetic data set and the SPEC.md validator."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mmrl_cli.config import ConfigOption

data_app = typer.Typer(help="Make and check data sets (SPEC.md JSONL).", no_args_is_help=True)


def _task_help() -> str:
    from mmrl.data.synth import TASKS

    lines = [f"{name}: {TASKS.get(name).summary}" for name in TASKS]
    return ("Task to render, several separated by commas (taken in turn), or 'mix' for the core tasks "
            "(one per verifier) in turn. Tasks: " + "; ".join(lines))


@data_app.command("synth")
def synth(
    out: Path = typer.Option(..., "-o", "--out", help="Output JSONL; images are written to images/ beside it."),
    task: str = typer.Option("mix", "--task", help=_task_help()),
    n: int = typer.Option(64, "--n", min=1, help="Number of samples."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    image_size: int = typer.Option(112, "--image-size", min=28, help="Side of the square images, in pixels."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Render a synthetic visual-reasoning data set with verifiable answers."""
    from mmrl.console import console
    from mmrl.data.synth import synthesize

    count = synthesize(out, task=task, n=n, seed=seed, image_size=image_size, progress=True)
    console.print(f"wrote {count} samples to {out}")


@data_app.command("validate")
def validate(
    files: list[str] = typer.Argument(..., help="JSONL files ('-' for stdin)."),
    kind: Optional[str] = typer.Option(
        None, "--kind", help="sample, rollout, scored or graded; inferred per record when absent."
    ),
    config: Optional[str] = ConfigOption,
) -> None:
    """Check files against SPEC.md; print every problem as PATH:LINE: field: reason (exit 2 if any)."""
    from mmrl.console import console
    from mmrl.errors import DataErrors
    from mmrl.io.schema import validate_file

    problems, total = [], 0
    for f in files:
        count, errors = validate_file(f, kind=kind)
        total += count
        problems.extend(errors)
    if problems:
        raise DataErrors(problems)
    console.print(f"ok: {total} records in {len(files)} file(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
