"""A recipe file as a document: its settings (keys as parameter names) and the line of each key.

The line is what ``mmrl recipe show`` prints as a setting's source (``recipe glm41v_rlcs.yaml:23``)
and what an error names. Recipes shipped with mmrl are found by name (``glm41v_rlcs``): in the
folders of ``$MMRL_RECIPES`` (``:``-separated), the source tree's ``recipes/``, then the
installed copy under ``<prefix>/share/mmrl/recipes``.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError

RECIPE_SUFFIXES = (".yaml", ".yml")
Key = tuple[str, ...]


@dataclass
class Recipe:
    """A parsed recipe: ``data`` with dashes in keys turned into underscores, ``lines`` of each key path."""

    path: Path
    data: dict[str, Any]
    lines: dict[Key, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def line(self, key: Key) -> int | None:
        """The line of ``key`` (or of the nearest enclosing key that has one)."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def where(self, key: Key) -> str:
        """``FILE:LINE`` of a key, as errors name it."""
        line = self.line(key)
        return f"{self.path}:{line}" if line else str(self.path)


def normalise(data: Any) -> Any:
    """Recipe keys may use dashes like the flags; parameters are named with underscores."""
    if isinstance(data, dict):
        return {str(k).replace("-", "_"): normalise(v) for k, v in data.items()}
    return data


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe file (within the bounds of ``read_yaml_file``) and the line of every key."""
    from mmrl.io.yamlfile import read_yaml_file

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: recipe not found")
    data = read_yaml_file(path, "recipe") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of command sections")
    return Recipe(path, normalise(data), _key_lines(path.read_text(encoding="utf-8")))


def _key_lines(text: str) -> dict[Key, int]:
    """1-based line of each mapping key, by its path of (normalised) keys; read_yaml_file has
    already bounded the document, so composing it again is safe."""
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Key, int] = {}
    stack: list[tuple[Any, Key]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                key = path + (str(key_node.value).replace("-", "_"),)
                lines.setdefault(key, key_node.start_mark.line + 1)
                stack.append((value, key))
    return lines


def recipe_dirs() -> list[Path]:
    """Where shipped recipes are looked up by name, in order."""
    dirs = [Path(p) for p in os.environ.get("MMRL_RECIPES", "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parents[2] / "recipes")   # a source checkout / editable install
    dirs.append(Path(sys.prefix) / "share" / "mmrl" / "recipes")   # setup.cfg data_files
    return [d for d in dirs if d.is_dir()]


def shipped_recipes() -> dict[str, Path]:
    """Name -> file of every recipe in ``recipe_dirs`` (the first folder holding a name wins)."""
    found: dict[str, Path] = {}
    for folder in recipe_dirs():
        for path in sorted(folder.iterdir()):
            if path.suffix in RECIPE_SUFFIXES and path.is_file():
                found.setdefault(path.stem, path)
    return found


def find_recipe(name: str | Path) -> Path:
    """A recipe file: a path as given, else a shipped recipe's name (``glm41v_rlcs``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = shipped_recipes()
    if str(name) in shipped:
        return shipped[str(name)]
    if path.stem in shipped and path.suffix in RECIPE_SUFFIXES and len(path.parts) == 1:
        return shipped[path.stem]
    raise ConfigError(f"{name}: no such recipe file, nor a shipped recipe; shipped: "
                      f"{', '.join(shipped) or 'none'} (see mmrl recipe list)")
