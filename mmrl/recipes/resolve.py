"""Each setting of a stage resolved, with where its value came from.

Layers, later winning: the command's default, the recipe (``recipe FILE:LINE``), the scale
overlay (``scale tiny FILE:LINE``), then ``--set SECTION.KEY=VALUE`` (``--set``). A value is
kept with its source so ``mmrl recipe show`` can print both and a stage's settings file can say
where each line came from.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mmrl.errors import ConfigError
from mmrl.recipes.document import Key, Recipe
from mmrl.recipes.schema import (
    SCALES,
    Schema,
    check_options,
    check_sections,
    children,
    dotted,
    section_of,
)

DEFAULT = "default"
SET = "--set"
SCALE_PAPER = "paper"
MERGED = ("param",)  # lists of KEY=VALUE that merge key by key rather than replace


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str

    @property
    def explicit(self) -> bool:
        return not self.source.startswith(DEFAULT)


@dataclass(frozen=True)
class Override:
    """One ``--set SECTION.KEY=VALUE``: the section path, the key and the YAML-read value."""

    section: Key
    key: str
    value: Any
    text: str


def parse_set(text: str, schema: Schema) -> Override:
    """``grpo.max_steps=3`` or ``eval.spec.limit=4``: the longest section path the schema knows,
    then the key; the value read as YAML (``true``, ``3``, ``[a, b]``, text)."""
    import yaml

    name, sep, raw = text.partition("=")
    parts = tuple(p.replace("-", "_") for p in name.strip().split("."))
    if not sep or len(parts) < 2 or not all(parts):
        raise ConfigError(f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. grpo.max_steps=3")
    section, key = parts[:-1], parts[-1]
    if section not in schema:
        valid = ", ".join(dotted(p) for p in sorted(schema))
        raise ConfigError(f"--set {text!r}: unknown section {dotted(section)!r}; valid sections: {valid}")
    if key not in schema[section]:
        raise ConfigError(f"--set {text!r}: {dotted(section)}.{key}: not an option of 'mmrl "
                          f"{' '.join(section).replace('_', '-')}'; valid: {', '.join(sorted(schema[section]))}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return Override(section, key, value, text)


def scale_overlay(recipe: Recipe, scale: str, schema: Schema) -> Mapping[str, Any]:
    """The recipe's ``scales.<scale>`` block (checked like its sections); nothing for ``paper``."""
    if scale == SCALE_PAPER:
        return {}
    block = section_of(recipe.data, (SCALES,))
    if scale not in block:
        known = ", ".join([SCALE_PAPER, *block]) or SCALE_PAPER
        raise ConfigError(f"{recipe.path}: no scale {scale!r} (its scales: {known}); add a "
                          f"'{SCALES}: {{{scale}: {{SECTION: {{KEY: VALUE}}}}}}' block")
    overlay = block[scale]
    if not isinstance(overlay, Mapping):
        raise ConfigError(f"{recipe.where((SCALES, scale))}: {SCALES}.{scale}: expected a mapping of sections")
    check_sections(recipe, schema, overlay, at=(SCALES, scale))
    return overlay


def resolve_section(path: Key, schema: Schema, recipe: Recipe, scale: str,
                    overrides: Sequence[Override] = ()) -> dict[str, Setting]:
    """Every option of the command at ``path``: its value and source."""
    if path not in schema:
        raise ConfigError(f"{recipe.path}: no command for section {dotted(path)!r} in this build "
                          f"(sections: {', '.join(children(schema, ()))})")
    out = {key: Setting(default, DEFAULT) for key, default in schema[path].items()}
    own = section_of(recipe.data, path)
    check_options(recipe, schema, path, own, path)
    for key, value in own.items():
        out[key] = Setting(value, f"recipe {recipe.path.name}:{recipe.line(path + (key,))}")
    overlay = scale_overlay(recipe, scale, schema)
    for key, value in section_of(overlay, path).items():
        out[key] = Setting(value, f"scale {scale} {recipe.path.name}:{recipe.line((SCALES, scale) + path + (key,))}")
    _algo_defaults(path, out)
    for o in overrides:
        if o.section == path:
            value = o.value
            if o.key in MERGED and out[o.key].explicit:  # --set grpo.param=[k=v] merges key by key, as --param
                from mmrl.rewards.params import param_items

                value = [*param_items(out[o.key].value), *param_items(value)]
            out[o.key] = Setting(value, SET)
    return out


def _algo_defaults(path: Key, out: dict[str, Setting]) -> None:
    """grpo's settings left unset take the default of its ``--algo`` (else their own declared one):
    shown as such (``default of algo rloo``); the command fills them itself, so they are not
    written into the stage's settings."""
    if path != ("grpo",):
        return
    from mmrl.rl.config import ALGORITHMS, GRPOConfig
    from mmrl.settings import leaves

    algo = out["algo"].value if "algo" in out else None
    filled = ALGORITHMS.get(str(algo), {})
    for leaf in leaves(GRPOConfig):
        s = out.get(leaf.key)
        if leaf.meta.algo and s is not None and not s.explicit and s.value is None:
            out[leaf.key] = Setting(filled[leaf.key], f"{DEFAULT} of algo {algo}") if leaf.key in filled else \
                Setting(leaf.default, DEFAULT)


def explicit(settings: Mapping[str, Setting]) -> dict[str, Any]:
    """The values a stage is given (not the command's own defaults)."""
    return {k: s.value for k, s in settings.items() if s.explicit}
