"""Recipes as defaults for flags: ``--config recipe.yaml``, with command-line flags winning.

A recipe is YAML whose sections are named after commands (``rollout:``, ``data: {synth: ...}``);
each section's keys are the command's flag names (dashes or underscores). The root option
``mmrl --config R.yaml CMD`` and the per-command ``mmrl CMD --config R.yaml`` both work; they fill
click's ``default_map``, so an explicit flag always overrides the recipe.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mmrl.errors import ConfigError


def load_recipe(path: str | Path) -> dict[str, Any]:
    from mmrl.io.yamlfile import read_yaml_file

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: recipe not found")
    data = read_yaml_file(path, "recipe") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of command sections")
    return normalise_keys(data)


def normalise_keys(data: Any) -> Any:
    """Recipe keys may use dashes like the flags; click's default_map wants parameter names."""
    if isinstance(data, dict):
        return {str(k).replace("-", "_"): normalise_keys(v) for k, v in data.items()}
    return data


def section_for(recipe: dict[str, Any], command_path: list[str]) -> dict[str, Any]:
    node: Any = recipe
    for name in command_path:
        node = node.get(name.replace("-", "_"), {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _subcommand(group, ctx: typer.Context, key: str):
    for name in (key, key.replace("_", "-")):
        cmd = group.get_command(ctx, name)
        if cmd is not None:
            return cmd
    return None


def check_recipe(path: str, section: dict[str, Any], command, ctx: typer.Context, where: str = "") -> None:
    """Refuse recipe keys that are not options of the command they configure (typos would
    otherwise be ignored silently). Sections for commands this build lacks are only logged."""
    import logging

    if hasattr(command, "get_command"):  # a group: its keys are sub-commands or its own options
        own = {p.name for p in command.params}
        for key, value in section.items():
            if key in own:
                continue
            sub = _subcommand(command, ctx, key)
            if sub is None:
                logging.getLogger("mmrl").warning("%s: section %s%s names no command of this build; ignored",
                                                  path, where, key)
            elif isinstance(value, dict):
                check_recipe(path, value, sub, ctx, f"{where}{key}.")
            else:
                raise ConfigError(f"{path}: {where}{key}: expected a section (mapping) for command {key!r}")
        return
    known = {p.name for p in command.params if p.expose_value}
    for key in section:
        if key not in known:
            options = ", ".join(sorted(known))
            raise ConfigError(f"{path}: {where}{key}: not an option of this command (options: {options})")


def apply_recipe(ctx: typer.Context, path: str | None) -> None:
    """Merge a recipe into the defaults of this command (root: all commands)."""
    if not path:
        return
    recipe = load_recipe(path)
    names = ctx.command_path.split()[1:]  # drop the program name
    section = section_for(recipe, names)
    check_recipe(str(path), section, ctx.command, ctx, "".join(f"{n}." for n in names))
    ctx.default_map = {**(ctx.default_map or {}), **section}
    allow_plugins(recipe.get("allow_verifier"), str(path))
    ctx.meta["mmrl.recipe"] = str(path)
    ctx.meta["mmrl.recipe_data"] = recipe


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
