"""Typer options generated from a config class's declarations (``mmrl.settings``).

``command(GRPOConfig, handler)`` returns a function whose signature holds one option per leaf
(flag, default, help, type) and per optional-section switch (``--lora``), plus ``--config``;
typer reads that signature as it reads a hand-written one. Called, it hands ``handler`` the
flat ``{key: value}`` of what the user (or the recipe) set. The option list of a training
command is therefore its config class: a setting added there is a flag, a recipe key and a
field the trainer reads, with no other line to write.
"""
from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING
from typing import Any, List, Optional

import typer

from mmrl.settings import Leaf, Switch, help_text, walk
from mmrl_cli.recipes import ConfigOption

Handler = Callable[[dict[str, Any]], None]


def _cli_type(leaf: Leaf) -> Any:
    meta = leaf.meta
    if meta.many:
        return List[str]
    base = meta.cli_type
    if base is None:
        args = [a for a in typing.get_args(leaf.type) if a is not type(None)]
        base = args[0] if len(args) == 1 else (str if args else leaf.type)
        if typing.get_origin(base) is not None or base not in (int, float, str, bool):
            base = str
    optional = leaf.default is None or leaf.meta.algo
    return Optional[base] if optional and base is not bool else base


def _option(leaf: Leaf) -> inspect.Parameter:
    meta = leaf.meta
    names = [meta.flag or leaf.flag, *meta.aliases]
    if meta.off_flag:
        names[0] = f"{names[0]}/{meta.off_flag}"
    if meta.short:
        names.append(meta.short)
    required = leaf.default is MISSING
    if meta.algo:
        default: Any = None  # unset: --algo fills it
    else:
        default = ... if required else ([] if meta.many else leaf.default)
    option = typer.Option(default, *names, help=help_text(leaf), hidden=meta.hidden,
                          show_default=meta.show_default and not meta.algo and not meta.many)
    return inspect.Parameter(leaf.key, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=_cli_type(leaf))


def _switch(item: Switch) -> inspect.Parameter:
    option = typer.Option(False, "--" + item.key.replace("_", "-"), help=item.help)
    return inspect.Parameter(item.key, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=bool)


def parameters(cls: type) -> list[inspect.Parameter]:
    """One typer option per leaf the command line may set, in declaration order."""
    out = []
    for item in walk(cls):
        if isinstance(item, Switch):
            out.append(_switch(item))
        elif item.meta.cli:
            out.append(_option(item))
    return out


def merge_with_recipe(ctx: typer.Context, kwargs: dict[str, Any], keys: list[str]) -> None:
    """A repeatable flag given on the command line adds to the recipe's list rather than replacing it
    (``--param alpha=0.2`` beside the recipe's ``param: [alpha=0.1, no_answer=zero]`` changes alpha
    only): the recipe's items first, the flag's after, and KEY=VALUE lists keep the last of a key."""
    recipe = ctx.default_map or {}
    for key in keys:
        source = ctx.get_parameter_source(key)  # typer vendors click: compare by name, not by class
        if getattr(source, "name", None) == "COMMANDLINE" and recipe.get(key):
            from mmrl.rewards.params import param_items

            kwargs[key] = [*param_items(recipe[key]), *kwargs[key]]


def command(cls: type, handler: Handler, doc: str) -> Callable[..., None]:
    """A typer command function for ``cls``: its options, ``--config``, and ``doc`` as its help."""
    params = parameters(cls)
    params.append(inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=ConfigOption,
                                    annotation=Optional[str]))
    params.insert(0, inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context))

    merged = [leaf.key for leaf in walk(cls) if isinstance(leaf, Leaf) and leaf.meta.many]

    def run(ctx: typer.Context, **kwargs: Any) -> None:
        kwargs.pop("config", None)
        merge_with_recipe(ctx, kwargs, merged)
        handler(kwargs)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__doc__ = doc
    run.__name__ = cls.__name__
    return run
