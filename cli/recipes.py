"""Recipes as defaults for flags: ``--config recipe.yaml``, with command-line flags winning.

A recipe is YAML whose sections are named after commands (``rollout:``, ``data: {synth: ...}``);
each section's keys are the command's flag names (dashes or underscores). The root option
``mmrl --config R.yaml CMD`` and the per-command ``mmrl CMD --config R.yaml`` both work, read the same
sections and check the whole file alike (``mmrl.recipes.schema``: an unknown section, key or verifier
parameter is an error naming the file and line, exit 2); they fill click's ``default_map``, so an
explicit flag overrides the recipe.
"""
from __future__ import annotations

from typing import Any

import typer

from mmrl.errors import ConfigError


def section_for(recipe: dict[str, Any], command_path: list[str]) -> dict[str, Any]:
    from mmrl.recipes.schema import section_of

    return section_of(recipe, tuple(name.replace("-", "_") for name in command_path))


def command_schema(ctx: typer.Context) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every command's section path and its options' defaults: what a recipe may set."""
    root = ctx.find_root()
    cached = root.meta.get("mmrl.schema")
    if cached is None:
        cached = root.meta["mmrl.schema"] = schema_of(root.command, root)
    return cached


NOT_SECTIONS = ("recipe",)   # command groups a recipe does not configure


def schema_of(command: Any, ctx: typer.Context, path: tuple[str, ...] = ()) -> dict:
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    if hasattr(command, "list_commands"):  # a group (typer vendors click: no isinstance)
        names = list(command.list_commands(ctx))
        if path == ("eval",):
            from mmrl.eval.benchmark import benchmark_names

            names += [b for b in benchmark_names() if b not in names]
        for name in names:
            key = name.replace("-", "_")
            if path or key not in NOT_SECTIONS:
                sub = command.get_command(ctx, name)
                if sub is not None:
                    out.update(schema_of(sub, ctx, path + (key,)))
        return out
    out[path] = {p.name: _default(p) for p in command.params if p.expose_value and p.name}
    return out


def _default(param: Any) -> Any:
    default = param.default
    return None if callable(default) else default


def with_command_names(section: dict[str, Any]) -> dict[str, Any]:
    """A section for click's default_map: click looks a sub-command's defaults up by the name typed
    (``warmup-sft``), a recipe names it with underscores (``warmup_sft``); both spellings given."""
    out = dict(section)
    for key, value in section.items():
        if isinstance(value, dict):
            out[key.replace("_", "-")] = out[key] = with_command_names(value)
    return out


def apply_recipe(ctx: typer.Context, path: str | None) -> None:
    """Check the whole recipe (unknown sections, keys, verifier parameters: exit 2) and merge it
    into the defaults of this command (root: of every command). The root form and the
    per-command form read the same sections."""
    if not path:
        return
    from mmrl.recipes.document import load_recipe
    from mmrl.recipes.params import check_recipe_params
    from mmrl.recipes.schema import check_sections

    recipe = load_recipe(path)
    check_sections(recipe, command_schema(ctx))
    allow_plugins(recipe.data.get("allow_verifier"), str(path))
    check_recipe_params(recipe)
    names = ctx.command_path.split()[1:]  # drop the program name
    section = with_command_names(section_for(recipe.data, names))
    ctx.default_map = {**(ctx.default_map or {}), **section}
    ctx.meta["mmrl.recipe"] = str(path)
    ctx.meta["mmrl.recipe_data"] = recipe.data


def allow_plugins(names: Any, recipe: str | None = None) -> None:
    """Allow the user verifiers named by ``--allow-verifier`` or a recipe's top-level
    ``allow_verifier`` (data may then name them; data alone never loads code)."""
    if names is None:
        return
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{recipe}: allow_verifier: expected a list of FILE.py:FUNCTION names")
    from mmrl.rewards.scoring import allow_verifier

    for name in names:
        allow_verifier(name)


def _config_callback(ctx: typer.Context, _param: typer.CallbackParam, value: str | None) -> str | None:
    apply_recipe(ctx, value)
    return value


ConfigOption = typer.Option(
    None,
    "--config",
    help="YAML recipe whose section for this command sets defaults; flags override it.",
    is_eager=True,
    callback=_config_callback,
    expose_value=False,
)
