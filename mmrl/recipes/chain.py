"""A recipe's ``chain:``: the stages ``mmrl recipe run`` takes in order.

Each entry names a stage kind, optionally with the recipe file its section comes from::

    chain:
      - data
      - warmup_sft: {recipe: r1vl_warmup.yaml}   # the warm-up's own recipe (beside this one)
      - rollout
      - reward
      - grade
      - grpo
      - eval

A stage kind is a command (its recipe section): ``data`` is ``data synth``, ``eval`` is
``eval spec`` (the held-out samples, each scored by its own verifier); the others are the
command of the same name. A user adds or drops a stage by editing the list. A scale overlay may
replace the list (``scales: {tiny: {chain: [...]}}``): a tiny random model must first be taught
the answer format that the paper's instruct model already follows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mmrl.errors import ConfigError
from mmrl.recipes.document import Key, Recipe, load_recipe
from mmrl.recipes.schema import CHAIN, SCALES

# stage kind -> its recipe section (also the command path, with dashes)
STAGE_SECTIONS: dict[str, Key] = {
    "data": ("data", "synth"),
    "warmup_sft": ("warmup_sft",),
    "rollout": ("rollout",),
    "reward": ("reward",),
    "grade": ("grade",),
    "grpo": ("grpo",),
    "eval": ("eval", "spec"),
}
STAGE_OPTIONS = ("recipe",)


@dataclass(frozen=True)
class Stage:
    kind: str
    recipe: Recipe          # the file its section (and scale overlay) is read from

    @property
    def section(self) -> Key:
        return STAGE_SECTIONS[self.kind]

    @property
    def command(self) -> tuple[str, ...]:
        return tuple(name.replace("_", "-") for name in self.section)


def parse_chain(recipe: Recipe, scale: str = "paper") -> list[Stage]:
    """The stages of ``recipe``'s chain (its ``scales.SCALE.chain`` where that replaces it), each
    checked; a stage kind appears at most once."""
    items, key = _chain_items(recipe, scale)
    where = recipe.where(key)
    if items is None:
        raise ConfigError(f"{recipe.path}: no 'chain:' list; add one, e.g. chain: [rollout, reward, grade, grpo, eval]")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: chain: expected a non-empty list of stages ({', '.join(STAGE_SECTIONS)})")
    stages, seen = [], set()
    for item in items:
        kind, options = _entry(item, where)
        if kind not in STAGE_SECTIONS:
            raise ConfigError(f"{where}: chain: unknown stage {kind!r}; stages: {', '.join(STAGE_SECTIONS)}")
        if kind in seen:
            raise ConfigError(f"{where}: chain: stage {kind!r} appears twice")
        seen.add(kind)
        source = recipe
        if "recipe" in options:
            other = Path(str(options["recipe"]))
            source = load_recipe(other if other.is_absolute() else recipe.path.parent / other)
        stages.append(Stage(kind, source))
    return stages


def _chain_items(recipe: Recipe, scale: str) -> tuple[object, tuple[str, ...]]:
    """The chain list (the scale's where it has one) and its key path in the file."""
    scales = recipe.data.get(SCALES)
    overlay = scales.get(scale) if isinstance(scales, Mapping) else None
    if isinstance(overlay, Mapping) and CHAIN in overlay:
        return overlay[CHAIN], (SCALES, scale, CHAIN)
    return recipe.data.get(CHAIN), (CHAIN,)


def _entry(item: object, where: str) -> tuple[str, Mapping[str, object]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, Mapping) and len(item) == 1:
        (kind, options), = item.items()
        options = options or {}
        if not isinstance(options, Mapping):
            raise ConfigError(f"{where}: chain: {kind}: expected options such as {{recipe: FILE}}")
        unknown = set(options) - set(STAGE_OPTIONS)
        if unknown:
            raise ConfigError(f"{where}: chain: {kind}: unknown option(s) {', '.join(sorted(unknown))}; "
                              f"valid: {', '.join(STAGE_OPTIONS)}")
        return str(kind), options
    raise ConfigError(f"{where}: chain: each stage is a name or {{name: {{recipe: FILE}}}}, got {item!r}")


def chain_names(recipe: Recipe, scale: str = "paper") -> list[str]:
    """The stage kinds of a recipe's chain as written (for listings; ``parse_chain`` checks them)."""
    items, _ = _chain_items(recipe, scale)
    return [str(item if isinstance(item, str) else next(iter(item))) for item in items or []
            if isinstance(item, str) or (isinstance(item, Mapping) and item)]


def scale_names(recipe: Recipe) -> list[str]:
    scales = recipe.data.get(SCALES)
    return ["paper", *(scales if isinstance(scales, Mapping) else {})]
