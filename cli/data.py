"""``mmrl data``: the built-in synthetic data set and the validator of docs/data-format.md."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mmrl_cli.recipes import ConfigOption
from mmrl_cli.data_options import ColumnsOption, SplitOption

data_app = typer.Typer(help="Make and check data sets (records as docs/data-format.md describes: JSONL, Parquet, "
                            "dataset folders).", no_args_is_help=True)


def _task_help() -> str:
    from mmrl.data.synth import TASKS

    lines = [f"{name}: {TASKS.get(name).summary}" for name in TASKS]
    return ("Task to render, several separated by commas (taken in turn), or 'mix' for the core tasks "
            "(one per verifier) in turn. Tasks: " + "; ".join(lines))


def _recipe_help() -> str:
    from mmrl.data.synth.recipes import RECIPE_DATA

    return ("Write the data a paper recipe trains on instead of --task: "
            + "; ".join(f"{r.name}: {r.summary}" for r in RECIPE_DATA.values()) + ".")


@data_app.command("synth")
def synth(
    out: Path = typer.Option(..., "-o", "--out", help="Output JSONL; images are written to images/ beside it."),
    task: Optional[str] = typer.Option(None, "--task", help=_task_help() + " Default: mix."),
    recipe: Optional[str] = typer.Option(None, "--recipe", help=_recipe_help()),
    n: int = typer.Option(64, "--n", min=1, help="Number of samples."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    image_size: int = typer.Option(112, "--image-size", min=28, help="Side of the square images, in pixels."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Render a synthetic visual-reasoning data set with verifiable answers."""
    from mmrl.console import console
    from mmrl.data.synth import images_dir, synthesize
    from mmrl.io.paths import OutputFolder, check_outputs

    from mmrl.errors import ConfigError

    if task is not None and recipe is not None:
        raise ConfigError("give --task or --recipe, not both (a recipe names its own tasks)")
    check_outputs({"-o": out}, folders=[OutputFolder(images_dir(out), label="-o (images beside it)")])
    count = synthesize(out, task=task or "mix", n=n, seed=seed, image_size=image_size, progress=True, recipe=recipe)
    console.print(f"wrote {count} samples to {out}")


@data_app.command("validate")
def validate(
    files: list[str] = typer.Argument(..., help="JSONL files ('-' for stdin), Parquet files or folders, dataset "
                                              "folders (save_to_disk)."),
    kind: Optional[str] = typer.Option(
        None, "--kind", help="sample, rollout, scored or graded; inferred per record when absent."
    ),
    split: Optional[str] = SplitOption,
    columns: Optional[str] = ColumnsOption,
    config: Optional[str] = ConfigOption,
) -> None:
    """Check data against docs/data-format.md, as strictly as any later command would: valid JSON and UTF-8, every
    field, every image decoded, every reward.verifier resolved. Prints every problem as PATH:LINE: field:
    reason (PATH:row N for Parquet and datasets; exit 2 if any)."""
    from mmrl.console import console
    from mmrl.errors import DataErrors
    from mmrl.io.columns import parse_columns
    from mmrl.io.samples import validate_source
    from mmrl.rewards.spec import RECORD_CHECKS

    mapping = parse_columns(columns)
    problems, total = [], 0
    for f in files:
        count, errors = validate_source(f, kind=kind, split=split, columns=mapping, checks=RECORD_CHECKS)
        total += count
        problems.extend(errors)
    if problems:
        raise DataErrors(problems)
    console.print(f"ok: {total} records in {len(files)} source(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
