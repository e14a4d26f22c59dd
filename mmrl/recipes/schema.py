"""What a recipe may say, and the one check every reader of a recipe applies.

A ``Schema`` maps each command's section path (``("grpo",)``, ``("data", "synth")``,
``("eval", "spec")``) to its options and their defaults; the command line builds it from the
commands it has. ``check_sections`` refuses an unknown section or key, naming the file, the line
and the valid names: the root form (``mmrl --config R CMD``), the per-command form
(``mmrl CMD --config R``), a scale overlay and ``mmrl recipe run`` all call it, so a recipe is
read the same way everywhere.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrl.errors import ConfigError
from mmrl.recipes.document import Key, Recipe

Schema = Mapping[Key, Mapping[str, Any]]

# top-level blocks that are not command sections
CHAIN, SCALES, ALLOW_VERIFIER = "chain", "scales", "allow_verifier"
RESERVED = (CHAIN, SCALES, ALLOW_VERIFIER)


def dotted(path: Key) -> str:
    return ".".join(path)


def children(schema: Schema, prefix: Key) -> list[str]:
    """The section names one level below ``prefix`` (commands and groups)."""
    return sorted({path[len(prefix)] for path in schema if len(path) > len(prefix) and path[:len(prefix)] == prefix})


def check_sections(recipe: Recipe, schema: Schema, node: Mapping[str, Any] | None = None, at: Key = (),
                   prefix: Key = ()) -> None:
    """Every section of ``node`` (default: the whole recipe) names a command of ``schema`` and
    every key one of its options; ``at`` is where ``node`` sits in the file (for line numbers)."""
    node = recipe.data if node is None else node
    for name, value in node.items():
        path = prefix + (name,)
        if not prefix and (name in RESERVED if not at else name == CHAIN):  # an overlay may replace the chain
            continue
        line_key = at + path
        if path in schema:
            check_options(recipe, schema, path, value, line_key)
        elif children(schema, path):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{recipe.where(line_key)}: {dotted(path)}: expected a mapping of sections "
                                  f"({', '.join(children(schema, path))})")
            check_sections(recipe, schema, value, at, path)
        else:
            valid = children(schema, prefix) + ([] if prefix or at else list(RESERVED))
            raise ConfigError(f"{recipe.where(line_key)}: unknown section {dotted(path)!r}; valid sections"
                              f"{' of ' + dotted(prefix) if prefix else ''}: {', '.join(valid)}")


def check_options(recipe: Recipe, schema: Schema, path: Key, value: Any, line_key: Key) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{recipe.where(line_key)}: {dotted(path)}: expected a mapping of options")
    options = schema[path]
    for key in value:
        if key not in options:
            raise ConfigError(f"{recipe.where(line_key + (key,))}: {dotted(path)}.{key}: not an option of "
                              f"'mmrl {' '.join(path).replace('_', '-')}'; valid: {', '.join(sorted(options))}")


def section_of(data: Mapping[str, Any], path: Key) -> dict[str, Any]:
    """The mapping at ``path`` (empty when absent)."""
    node: Any = data
    for name in path:
        node = node.get(name, {}) if isinstance(node, Mapping) else {}
    return dict(node) if isinstance(node, Mapping) else {}
