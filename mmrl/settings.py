"""Each setting declared once: its flag, help, range and the registry that checks its name.

A config is a dataclass whose fields are declared with ``setting(...)`` (a leaf: one flag) or
``section(...)`` (a nested config). The declaration is read by everything that touches a
setting, so none of them writes it again:

- the command line: ``mmrl_cli.generate`` turns the leaves into Typer options (flag, default,
  help), so a command's option list is its config class;
- recipes: a recipe section's keys are the leaves' keys (the flag without dashes), checked by
  the same command; an unknown key is an error;
- start-up checks: ``check(cfg)`` tests every leaf against its range, choices and registry
  before any model loads;
- construction from flags: ``build(cls, flat)`` makes the nested config from ``{key: value}``
  (what the command line and tests hold), converting text with the leaf's ``parse``.

TRL declares its settings the same way (dataclass fields with ``metadata={"help": ...}``, the
command line generated from them); mmrl adds the range and the registry to the declaration.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass
from typing import Any

from mmrl.errors import ConfigError

META = "mmrl"


# ---------------------------------------------------------------- ranges


@dataclass(frozen=True)
class Bound:
    """``low <= value <= high`` (``<`` where open); a number, always finite."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value) or (self.integer and not float(value).is_integer()):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{kind} {'<' if self.high_open else '<='} {self.high:g}"
        return kind


ANY = Bound()
POSITIVE = Bound(0, low_open=True)
NON_NEGATIVE = Bound(0)
SHARE = Bound(0, 1, high_open=True)          # a share of something, below the whole
PROBABILITY = Bound(0, 1)
COUNT = Bound(1, integer=True)               # at least one
NON_NEGATIVE_COUNT = Bound(0, integer=True)
SEED = Bound(0, 2**32 - 1, integer=True)     # NumPy's seeds are 32-bit


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Meta:
    """What a leaf declares besides its name, type and default."""

    help: str
    flag: str | None = None          # "--group-size"; None: "--" + the field name with dashes
    short: str | None = None         # "-G"
    off_flag: str | None = None      # "--no-merge-lora": a switch with both spellings
    bound: Bound | None = None
    choices: tuple[str, ...] | None = None
    registry: str | None = None      # "mmrl.rl.advantages:ADVANTAGES"; names checked against it
    allow: tuple[str, ...] = ()      # names accepted besides the registry's (e.g. "accuracy_band")
    parse: Callable[[Any], Any] | None = None   # command-line text -> value (e.g. "a=1,b=2" -> dict)
    cli_type: Any = None             # the type the command line takes when it differs (str for a dict)
    many: bool = False               # a repeatable flag (a list)
    aliases: tuple[str, ...] = ()   # more spellings of the flag ("--local_rank")
    show_default: bool = True
    hidden: bool = False
    cli: bool = True                 # False: set by code, never a flag (e.g. a per-step seed)
    algo: bool = False               # left None, it takes the --algo default ("[algo]" in the help)

    def key(self, name: str) -> str:
        return (self.flag or "--" + name).lstrip("-").replace("-", "_")


def setting(default: Any = MISSING, *, default_factory: Any = MISSING, **meta: Any) -> Any:
    """A leaf field: ``lr: float = setting(1e-6, help="...", bound=POSITIVE)``."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={META: Meta(**meta)})


@dataclass(frozen=True)
class SectionMeta:
    help: str
    switch: str | None = None   # an optional section, present when this flag is on ("lora")
    switch_help: str = ""
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # key -> this config's default


def section(cls: type, *, help: str, switch: str | None = None, switch_help: str = "",
            defaults: Mapping[str, Any] | None = None) -> Any:
    """A nested config field; with ``switch`` it is None unless that on/off key is set.
    ``defaults`` declares where this config's default differs from the section's own
    (``defaults={"lr": 1e-6}``): the command line shows it and ``build`` uses it."""
    meta = SectionMeta(help, switch, switch_help, dict(defaults or {}))
    factory = (lambda: None) if switch else (lambda: build(cls, {}, meta.defaults))
    return dataclasses.field(default_factory=factory, metadata={META: meta})


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]     # attribute path from the root config, ("optim", "lr")
    name: str                 # the field name
    key: str                  # the flag without dashes, the recipe key and the CLI parameter name
    type: Any                 # the field's type (resolved)
    default: Any
    meta: Meta
    owner: type               # the dataclass declaring it

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


@dataclass(frozen=True)
class Switch:
    """The on/off key of an optional section (``--lora``)."""

    path: tuple[str, ...]
    key: str
    help: str
    section: type


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # each field's annotation read in the module that declared it


def _optional_type(tp: Any) -> type | None:
    """``X | None`` -> X (a section type)."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if len(args) == 1 and dataclasses.is_dataclass(args[0]) else None


def _section_type(tp: Any) -> type:
    return tp if dataclasses.is_dataclass(tp) else _optional_type(tp)


def walk(cls: type, path: tuple[str, ...] = (), overrides: Mapping[str, Any] | None = None) -> Iterator[Leaf | Switch]:
    """Every leaf (and optional-section switch) of a config class, depth first, in field order;
    a leaf's default is the one the enclosing sections declare for it, else its own."""
    overrides = overrides or {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(META)
        if isinstance(meta, SectionMeta):
            inner = _section_type(hints[f.name])
            if meta.switch:
                yield Switch(path + (f.name,), meta.switch, meta.switch_help or meta.help, inner)
            yield from walk(inner, path + (f.name,), {**meta.defaults, **overrides})
        elif isinstance(meta, Meta):
            key = meta.key(f.name)
            if key in overrides:
                default = overrides[key]
            elif f.default is not MISSING:
                default = f.default
            else:
                default = f.default_factory() if f.default_factory is not MISSING else MISSING
            yield Leaf(path + (f.name,), f.name, key, hints[f.name], default, meta, cls)


def leaves(cls: type) -> list[Leaf]:
    return [x for x in walk(cls) if isinstance(x, Leaf)]


def keys(cls: type) -> set[str]:
    """Every key a flat mapping (flags, a recipe section) may hold for this config."""
    return {x.key for x in walk(cls)}


def build(cls: type, flat: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> Any:
    """The nested config from ``{key: value}``; unknown keys are an error, text is parsed, and a
    key not given takes the default its sections declare (``overrides``), else the field's own."""
    unknown = set(flat) - keys(cls)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(sorted(unknown))} for {cls.__name__}; "
                          f"known: {', '.join(sorted(keys(cls)))}")
    return _build(cls, flat, dict(overrides or {}))


def _build(cls: type, flat: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(META)
        if isinstance(meta, SectionMeta):
            if meta.switch and not flat.get(meta.switch, overrides.get(meta.switch)):
                kwargs[f.name] = None
            else:
                kwargs[f.name] = _build(_section_type(hints[f.name]), flat, {**meta.defaults, **overrides})
        elif isinstance(meta, Meta):
            key = meta.key(f.name)
            if key in flat:
                kwargs[f.name] = _parsed(meta, flat[key])
            elif key in overrides:
                kwargs[f.name] = overrides[key]
    return cls(**kwargs)


def _parsed(meta: Meta, value: Any) -> Any:
    """A value as the field holds it: command-line text through the leaf's ``parse``."""
    if meta.parse is None or value is None:
        return value
    if meta.many:
        return meta.parse(list(value)) if isinstance(value, (list, tuple)) else value
    return meta.parse(value) if isinstance(value, str) else value


def _owner(cfg: Any, path: tuple[str, ...]) -> Any:
    """The config object holding the field at ``path`` (None inside an optional section that is off)."""
    node = cfg
    for part in path[:-1]:
        node = getattr(node, part) if node is not None else None
    return node


def flatten(cfg: Any) -> dict[str, Any]:
    """``{key: value}`` of every leaf (and switch) of a config object: what ``build`` takes back."""
    out: dict[str, Any] = {}
    for item in walk(type(cfg)):
        if isinstance(item, Switch):
            out[item.key] = _owner(cfg, item.path + ("",)) is not None
        elif (node := _owner(cfg, item.path)) is not None:
            out[item.key] = getattr(node, item.name)
    return out


def registry_of(ref: str):
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def check(cfg: Any) -> None:
    """Every set leaf within its range, among its choices, and (for a name) in its registry."""
    for leaf in leaves(type(cfg)):
        node = _owner(cfg, leaf.path)
        if node is not None:  # None: inside an optional section that is off
            check_value(leaf, getattr(node, leaf.name))


def check_value(leaf: Leaf, value: Any) -> None:
    meta = leaf.meta
    if value is None:
        return
    if meta.bound is not None and not meta.bound.holds(value):
        raise ConfigError(f"{leaf.flag} must be {meta.bound.describe()}, got {value!r}")
    if meta.choices is not None and value not in meta.choices:
        raise ConfigError(f"{leaf.flag} must be one of {', '.join(meta.choices)}, got {value!r}")
    if meta.registry is not None and value not in meta.allow:
        try:
            registry_of(meta.registry).get(value)
        except ConfigError as e:
            extra = f" (or {', '.join(meta.allow)})" if meta.allow else ""
            raise ConfigError(f"{leaf.flag}: {e}{extra}") from None


def help_text(leaf: Leaf) -> str:
    """The help a flag shows: the declared text, the choices, and ``(--algo sets it; default X)``
    where --algo fills the setting when it is left unset (no square brackets: the help is rich
    markup, which would swallow them)."""
    text = leaf.meta.help
    if leaf.meta.choices and "one of" not in text:
        text += f" One of: {', '.join(leaf.meta.choices)}."
    if leaf.meta.algo:
        text += f" (--algo sets it; default {_shown(leaf.default)})"
    return text


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)
