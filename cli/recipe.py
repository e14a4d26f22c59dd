"""``mmrl recipe``: run a paper's whole chain (``run``), list the shipped recipes, show one resolved."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, List, Optional

import typer

recipe_app = typer.Typer(help="A paper's recipe end to end: 'mmrl recipe run glm41v_rlcs --model M --out DIR'.",
                         no_args_is_help=True)

RecipeArgument = typer.Argument(..., help="A recipe file, or the name of a shipped one (mmrl recipe list).")
SetOption = typer.Option([], "--set", metavar="SECTION.KEY=VALUE",
                         help="Change one setting of one stage, e.g. grpo.max_steps=3 (repeatable; wins over the "
                              "recipe and the scale; param lists merge key by key).")
ScaleOption = typer.Option("paper", "--scale", help="paper: the recipe as written; tiny: its 'scales: tiny' overlay "
                           "(every mechanism on, batch, group, steps and lengths shrunk for a tiny model on a CPU).")


class CliCommands:
    """The stages' commands, run in this process as ``mmrl --config SETTINGS CMD ARGS`` would."""

    def __init__(self, ctx: typer.Context) -> None:
        self._ctx = ctx

    @cached_property
    def schema(self) -> dict[tuple[str, ...], dict[str, Any]]:
        from mmrl_cli.recipes import command_schema

        return command_schema(self._ctx)

    def run(self, command: tuple[str, ...], settings: Path, args: list[str]) -> int:
        root = self._ctx.find_root()
        given = [f"--log-level={root.params.get('log_level') or 'INFO'}",
                 *(f"--allow-verifier={name}" for name in root.params.get("allow_verifier") or [])]
        try:
            code = root.command.main(args=[*given, "--config", str(settings), *command, *args], prog_name="mmrl",
                                     standalone_mode=False)
        except KeyboardInterrupt:
            return 130
        except Exception as e:  # noqa: BLE001 - click's usage errors (typer vendors click: no class to name)
            if not (hasattr(e, "exit_code") and hasattr(e, "show")):
                if type(e).__name__ == "Abort":  # Ctrl-C inside a command
                    return 130
                raise
            e.show()
            return int(e.exit_code)
        return code if isinstance(code, int) else 0


def _request(recipe: str, model: str, out: Path, data: Optional[str], eval_data: Optional[str], sets: list[str],
             scale: str):
    from mmrl.recipes import RunRequest, find_recipe, load_recipe

    return RunRequest(load_recipe(find_recipe(recipe)), model=model, out=out, data=data, eval_data=eval_data,
                      sets=sets, scale=scale)


@recipe_app.command("run")
def run(
    ctx: typer.Context,
    recipe: str = RecipeArgument,
    model: str = typer.Option(..., "--model", "-m", help="The model to start from (a folder or hub name)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: one subfolder per stage, report.json, curves.png."),
    data: Optional[str] = typer.Option(None, "--data", help="Training samples (default: the data stage makes them "
                                       "with mmrl data synth)."),
    eval_data: Optional[str] = typer.Option(None, "--eval-data", help="Held-out samples for the eval stage "
                                            "(default: the data stage makes them, with another seed)."),
    set_: List[str] = SetOption,
    scale: str = ScaleOption,
) -> None:
    """Run the recipe's chain (warm-up SFT, rollout, reward, grade, grpo, eval...) in order, each stage in
    OUT/STAGE with the files its command writes; run again, a finished stage is kept and a stopped one
    resumes (training from its last checkpoint). Ends with accuracy before/after per source and the curves.

    Example: mmrl recipe run mm_eureka --model ckpt/instruct --out runs/eureka --scale tiny"""
    from mmrl.recipes import run_recipe
    from mmrl.recipes.report import write_report

    request = _request(recipe, model, out, data, eval_data, set_, scale)
    result = run_recipe(request, CliCommands(ctx))
    write_report(out, result.metrics, f"{request.recipe.name} ({scale})")


@recipe_app.command("list")
def list_recipes() -> None:
    """The recipes shipped with mmrl: name, stages, file."""
    from rich.table import Table

    from mmrl.console import console
    from mmrl.recipes import load_recipe, shipped_recipes
    from mmrl.recipes.chain import chain_names, scale_names

    table = Table(title="recipes")
    for col in ("name", "chain", "scales", "file"):
        table.add_column(col)
    for name, path in shipped_recipes().items():
        recipe = load_recipe(path)
        table.add_row(name, " → ".join(chain_names(recipe)) or "-", ", ".join(scale_names(recipe)), str(path))
    console.print(table)


@recipe_app.command("show")
def show(
    ctx: typer.Context,
    recipe: str = RecipeArgument,
    set_: List[str] = SetOption,
    scale: str = ScaleOption,
    changed: bool = typer.Option(False, "--changed", help="Only the settings the recipe, its scale or --set give."),
) -> None:
    """Every setting of every stage of the chain, resolved, with its source: default, recipe FILE:LINE,
    scale NAME FILE:LINE or --set."""
    from rich.table import Table

    from mmrl.console import console
    from mmrl.recipes import plan
    from mmrl.recipes.settings_file import scalar

    request = _request(recipe, "MODEL", Path("OUT"), None, None, set_, scale)
    table = Table(title=f"{request.recipe.name} ({scale})")
    for col in ("stage", "setting", "value", "source"):
        table.add_column(col)
    for p in plan(request, CliCommands(ctx).schema):
        for key, s in p.settings.items():
            if s.explicit or not changed:
                table.add_row(p.stage.kind, key, scalar(s.value), s.source)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(recipe_app, name="recipe")
