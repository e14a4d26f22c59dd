"""A recipe's verifier parameters (``param:`` of any section, its scale overlays too) checked at
start-up against what the verifiers declare (``mmrl.rewards.params``), naming the file and line."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mmrl.errors import ConfigError
from mmrl.recipes.document import Key, Recipe
from mmrl.recipes.schema import CHAIN

PARAM_KEY = "param"


def param_entries(node: Mapping[str, Any], path: Key = ()) -> Iterator[tuple[Key, Any]]:
    for key, value in node.items():
        if not path and key == CHAIN:
            continue
        if key == PARAM_KEY and path:
            yield path + (key,), value
        elif isinstance(value, Mapping):
            yield from param_entries(value, path + (key,))


def check_recipe_params(recipe: Recipe) -> None:
    from mmrl.rewards.params import check_params, only_builtin_verifiers
    from mmrl.rewards.scoring import parse_params

    open_ended = not only_builtin_verifiers()
    for path, value in param_entries(recipe.data):
        where = f"{recipe.where(path)}: {'.'.join(path)}"
        try:
            params = parse_params(value if value is not None else [])
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        check_params(params, where, open_ended=open_ended)
