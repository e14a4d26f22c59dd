"""Named registries: one per extension point (verifiers, advantage estimators, benchmarks...).

A user adds an entry with a decorator, ``@VERIFIERS.register("mine")``, or names a function in a
file or module, ``path/to/file.py:function`` or ``package.module:function``, wherever a recipe
or flag takes a registered name.

Only the command line, a recipe or a library call may name code. A registry whose names also come
from data files (verifiers: a sample's ``reward.verifier``) is built with ``loads_code=False``:
its ``get`` finds registered names only, and a ``file.py:function`` it has not been given by
``load`` (what the trusted callers use) is refused, so a data set from a stranger cannot make
mmrl import anything.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from mmrl.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object table with a decorator for adding entries and clear errors for misses."""

    def __init__(self, kind: str, *, loads_code: bool = True):
        self.kind = kind
        self.loads_code = loads_code
        self._items: dict[str, T] = {}

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self.add(name, obj, replace=replace)
            return obj

        return deco

    def add(self, name: str, obj: T, *, replace: bool = False) -> None:
        if not replace and name in self._items and self._items[name] is not obj:
            raise ConfigError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """Look up a name; ``file.py:attr`` and ``module:attr`` load and register user code, unless
        this registry takes names from data (``loads_code=False``): then only ``load`` does."""
        if name in self._items:
            return self._items[name]
        if is_code_ref(name):
            if not self.loads_code:
                raise CodeRefused(self.kind, name)
            return self.load(name)
        known = ", ".join(sorted(self._items)) or "none"
        raise ConfigError(f"unknown {self.kind} {name!r}; known: {known}")

    def load(self, name: str) -> T:
        """The entry ``name`` stands for, loading ``file.py:attr`` or ``module:attr`` code when it is
        not registered yet. For names from a trusted place only: the command line, a recipe, a
        library call; never a data file."""
        if name in self._items or not is_code_ref(name):
            return self.get(name)
        obj = load_object(name)
        self._items[name] = obj
        return obj

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)


class CodeRefused(ConfigError):
    """A name from data that points at code (a file or module) no trusted place allowed."""

    def __init__(self, kind: str, name: str):
        self.name = name
        super().__init__(f"{kind} {name!r} names code (a file or module); a data file may name only "
                         f"registered {kind}s, so it is not loaded. To use this plugin, allow it on the command "
                         f"line: mmrl --allow-verifier {name} COMMAND ... (or name it as the run's --verifier)")


def is_code_ref(name: str) -> bool:
    """Whether a name points at code: ``path/to/file.py:attr`` or ``module:attr``."""
    return ":" in name


def load_object(ref: str):
    """Load ``path/to/file.py:name`` or ``package.module:name``."""
    target, _, attr = ref.rpartition(":")
    if not target or not attr:
        raise ConfigError(f"expected FILE.py:NAME or MODULE:NAME, got {ref!r}")
    if target.endswith(".py") or "/" in target:
        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"{ref}: no such file {path}")
        mod_name = f"mmrl_user_{abs(hash(path.resolve()))}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"{ref}: cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise ConfigError(f"{ref}: cannot import module {target}: {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"{ref}: {target} has no attribute {attr!r}") from None
